/**
 * Several tollama replicas (issue "scale-out", item 1): two simulators in tollama's shape (one
 * request at a time per model), and the same daemon build pointed at one of them, then at both.
 *
 *  - closed loop: 32 clients, each sending its next forecast (a market never seen before) when
 *    its answer is in — forecasts answered from the upstream per second with two replicas
 *    ≥ 1.7 × with one, both measured in this run;
 *  - kill: the same closed loop on two replicas; one simulator is stopped a third of the way in
 *    (SIGTERM: its sockets close) and started again on the same port two thirds in — no answer
 *    later than its deadline, fallbacks no more than the series in flight on the killed replica
 *    (the lane's limit there × a full batch), and the restarted replica serves again.
 *
 * The simulators' cost is mostly per series (25 ms + 12 ms per series, a larger model on a CPU):
 * 32 clients make batches of ~32 on one replica and ~16 on each of two, and the fixed cost paid
 * twice as often caps the gain at (F + 32c) ÷ (F + 16c) whatever the routing — 1.43 × with
 * tollama's own 25 + 1.2 ms, 1.79 × at 25 + 6 ms, 1.88 × here — and the clients' own turnaround
 * between an answer and their next request (~20 ms on this 2-core machine, paid once per
 * cohort) lowers it further: at 25 + 6 ms the same routing measured 1.61–1.76 ×, a ratio about
 * the upstream's shape and the machine, not about us. The report prints the shape's cap.
 *
 * Run: make bench-lanes-replicas   (node dist/perf/lanes/replicas.js [--duration-ms N])
 */
import { runIfEntry } from '../../src/entry.js'
import type { DeepPartial, TsfmConfig } from '../../src/config/types.js'
import { benchConfig } from '../load/bench-config.js'
import { simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { compact, formatCriteria, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import type { LoadReport } from '../load/tally.js'
import { runPrefix, warmUp } from '../profiles/normal-load.js'

export const REPLICAS = {
  clients: 32,
  durationMs: 8000,
  shape: ['--serial', '--latency-fixed', '25', '--latency-per-series', '12'],
  minRatio: 1.7,
  deadlineMs: 1600,
  /** The lane's limit on the killed replica (2 on a serial upstream) × a full batch of 32 clients. */
  maxKillFallbacks: 64,
} as const

interface Loop {
  readonly report: LoadReport
  readonly perS: number
  readonly requests: readonly number[]
  readonly meanBatch: number
}

export interface ReplicasResult {
  readonly one: Loop
  readonly two: Loop
  readonly kill: Loop & { readonly backRequests: number }
  readonly criteria: readonly Criterion[]
}

async function loop(loader: Loader, sims: readonly Child[], name: string, durationMs: number, during?: () => Promise<void>): Promise<Loop> {
  for (const s of sims) await simReset(s.url)
  const mix = new RequestMix({ prefix: runPrefix(`replicas-${name}`), uniqueKeys: Number.POSITIVE_INFINITY })
  const [report] = await Promise.all([loader.run({ mix, concurrency: REPLICAS.clients, durationMs }), during?.()])
  const stats = await Promise.all(sims.map((s) => simStats(s.url).catch(() => null)))
  const requests = stats.map((s) => s?.forecastRequests ?? 0)
  const series = stats.reduce((n, s) => n + (s?.seriesTotal ?? 0), 0)
  const total = requests.reduce((a, b) => a + b, 0)
  return { report, perS: (report.success / report.wall_ms) * 1000, requests, meanBatch: total === 0 ? 0 : series / total }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function runReplicas(durationMs: number): Promise<ReplicasResult> {
  const group = new ProcessGroup()
  try {
    const a = await group.simulator(REPLICAS.shape)
    let b = await group.simulator(REPLICAS.shape)
    const bPort = new URL(b.url).port
    const single = await group.daemon(benchConfig(a.url), 'daemon (one replica)')
    const both = await group.daemon(benchConfig(a.url, { adapter: { base_url: [a.url, b.url] } } as unknown as DeepPartial<TsfmConfig>), 'daemon (two replicas)')
    const oneLoader = new Loader(single.url, REPLICAS.clients)
    const twoLoader = new Loader(both.url, REPLICAS.clients)
    try {
      await warmUp(oneLoader, REPLICAS.clients)
      await warmUp(twoLoader, REPLICAS.clients)
      const one = await loop(oneLoader, [a], 'one', durationMs)
      const two = await loop(twoLoader, [a, b], 'two', durationMs)
      // Kill and restart: a third of the run each.
      const third = durationMs / 2
      const killRun = await loop(twoLoader, [a, b], 'kill', 3 * third, async () => {
        await sleep(third)
        await group.stop(b)
        await sleep(third)
        b = await group.simulator([...REPLICAS.shape, '--port', bPort])
      })
      const back = await simStats(b.url)
      const kill = { ...killRun, backRequests: back.forecastRequests }
      return { one, two, kill, criteria: judge(one, two, kill) }
    } finally {
      await oneLoader.close()
      await twoLoader.close()
    }
  } finally {
    await group.stopAll()
  }
}

function judge(one: Loop, two: Loop, kill: ReplicasResult['kill']): Criterion[] {
  const ratio = two.perS / one.perS
  const late = kill.report.latency_ms.max
  const killFallbacks = kill.report.fallbacks + kill.report.errors + kill.report.invalid
  return [
    criterion('gate', `closed loop, ${REPLICAS.clients} clients: two replicas ÷ one, forecasts from the upstream per second`, `≥ ${REPLICAS.minRatio}`, `${ratio.toFixed(2)} (${two.perS.toFixed(0)}/s ÷ ${one.perS.toFixed(0)}/s)`, ratio >= REPLICAS.minRatio),
    criterion('gate', 'closed loop: fallbacks, errors, invalid answers (one and two replicas)', '0', String(one.report.fallbacks + one.report.errors + one.report.invalid + two.report.fallbacks + two.report.errors + two.report.invalid), one.report.fallbacks + one.report.errors + one.report.invalid + two.report.fallbacks + two.report.errors + two.report.invalid === 0),
    criterion('gate', 'one replica killed mid-run: slowest answer', `≤ the deadline budget, ${ms(REPLICAS.deadlineMs)}`, ms(late), late <= REPLICAS.deadlineMs),
    criterion('gate', 'one replica killed mid-run: fallbacks, errors, invalid answers', `≤ ${REPLICAS.maxKillFallbacks} (what can be in flight on it)`, `${killFallbacks} ${JSON.stringify(kill.report.fallbacks_by_reason)}`, killFallbacks <= REPLICAS.maxKillFallbacks),
    criterion('gate', 'the killed replica, restarted: serves again', '> 0 upstream requests', String(kill.backRequests), kill.backRequests > 0),
  ]
}

/** (F + n·c) ÷ (F + n/2·c) for n clients: two replicas' best over one's with batches of n and n/2. */
function shapeCap(): number {
  const shape: readonly string[] = REPLICAS.shape
  const flag = (name: string): number => Number(shape[shape.indexOf(name) + 1])
  const f = flag('--latency-fixed')
  const c = flag('--latency-per-series')
  return (f + REPLICAS.clients * c) / (f + (REPLICAS.clients / 2) * c)
}

function line(name: string, l: Loop): string {
  return `${name}: ${l.report.requests} answers in ${ms(l.report.wall_ms)}, ${l.perS.toFixed(0)}/s from the upstream, p50 ${ms(l.report.latency_ms.p50)} p99 ${ms(l.report.latency_ms.p99)} max ${ms(l.report.latency_ms.max)}, upstream requests ${l.requests.join(' + ')} (mean ${l.meanBatch.toFixed(1)} series), fallbacks ${JSON.stringify(l.report.fallbacks_by_reason)}`
}

export function describeReplicas(res: ReplicasResult): string {
  return [
    `== several replicas (simulators: ${REPLICAS.shape.join(' ')}, ${REPLICAS.clients} closed-loop clients; the shape caps two ÷ one at ${shapeCap().toFixed(2)})`,
    line('one replica', res.one),
    line('two replicas', res.two),
    line('two, one killed and restarted', res.kill) + `; the restarted replica served ${res.kill.backRequests} requests`,
    formatCriteria(res.criteria),
  ].join('\n')
}

runIfEntry(import.meta.url, 'lanes-replicas', async (argv) => {
  const res = await runReplicas(intFlag(argv, 'duration-ms', REPLICAS.durationMs))
  console.log(describeReplicas(res))
  const json = (l: Loop) => ({ per_s: round(l.perS), upstream_requests: l.requests, mean_batch: round(l.meanBatch), ...compact(l.report) })
  console.log(`saved to ${saveResult('lanes-replicas', { options: REPLICAS, one: json(res.one), two: json(res.two), kill: { ...json(res.kill), restarted_requests: res.kill.backRequests }, criteria: res.criteria })}`)
  return allPass(res.criteria) ? 0 : 1
})
