/**
 * Hedged requests (issue "scale-out", item 2): two simulators, one of which stalls 10 % of its
 * requests for 2 s (`--faults hang=0.1 --hang-ms 2000`: a seeded draw per request, the same
 * sequence in every run of the benchmark), both at 25 ms + 6 ms/series (32
 * callers need both replicas — with a load one replica can carry, the routing alone sends nearly
 * everything to the replica that does not stall: measured with 8 callers, 2 of 100 requests went
 * to it). An embedded runner (priority is an embedding option) with 32 closed-loop callers, all
 * `priority: high`, runs once with hedging off (`hedge_after_ms: 0`) and once with the default
 * (`adaptive`), against the same simulators: high-priority p99 with hedging ≤ 0.5 × without,
 * hedges ≤ 5 % of upstream requests. All high: high jobs go first, to the replica that looks
 * fastest, so with 4 or 16 of 32 high the stalls caught mostly normal-priority batches and the
 * p99 without hedging showed a stall in some runs only (measured: 252 ms in one run of four
 * with 16 high, 1 207 ms in the others) — the comparison said nothing then.
 *
 * Run: make bench-lanes-hedging   (node dist/perf/lanes/hedging.js [--duration-ms N])
 */
import { runIfEntry } from '../../src/entry.js'
import { createRunner } from '../../src/runner.js'
import { simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, pct, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { percentiles, type Percentiles } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { formatCriteria, saveResult } from '../load/report.js'

export const HEDGING = {
  callers: 32,
  high: 32,
  durationMs: 15_000,
  stalled: ['--serial', '--latency-fixed', '25', '--latency-per-series', '6', '--faults', 'hang=0.1', '--hang-ms', '2000'],
  healthy: ['--serial', '--latency-fixed', '25', '--latency-per-series', '6'],
  maxP99Ratio: 0.5,
  maxHedgeShare: 0.05,
} as const

interface Run {
  readonly high: Percentiles
  readonly normal: Percentiles
  readonly fallbacks: number
  readonly hedges: number
  readonly upstreamRequests: number
  /** Upstream requests per replica: the stalling one, then the other. */
  readonly byReplica: readonly number[]
  /** Requests the stalling replica held for 2 s. */
  readonly stalls: number
}

function series(seed: number): number[] {
  const y: number[] = []
  for (let i = 0; i < 64; i++) y.push(0.5 + 0.3 * Math.sin((i + seed) / 7))
  return y
}

async function run(sims: readonly Child[], hedgeAfterMs: number | 'adaptive', durationMs: number, name: string): Promise<Run> {
  for (const s of sims) await simReset(s.url)
  const runner = await createRunner({
    config: { tsfm: { adapter: { base_url: sims.map((s) => s.url), health_interval_s: 0, warmup: { enabled: false }, hedge_after_ms: hedgeAfterMs } } },
    defaultMetrics: false,
    checkModels: false,
  })
  const high: number[] = []
  const normal: number[] = []
  let fallbacks = 0
  try {
    const end = performance.now() + durationMs
    let n = 0
    const caller = async (c: number): Promise<void> => {
      const priority = c < HEDGING.high ? 'high' : 'normal'
      while (performance.now() < end) {
        const i = n++
        const t0 = performance.now()
        const res = await runner.forecast({ market_id: `${name}-${c}-${i}`, as_of_ts: 1_771_545_600 + i * 300, y: series(i) }, { priority })
        const t = performance.now() - t0
        if (res.meta.fallback_used) fallbacks++
        ;(priority === 'high' ? high : normal).push(t)
      }
    }
    await Promise.all(Array.from({ length: HEDGING.callers }, (_, c) => caller(c)))
    let hedges = 0
    for (const lane of Object.values(runner.state().lanes)) hedges += lane.io?.hedges ?? 0
    const stats = await Promise.all(sims.map((s) => simStats(s.url)))
    return { high: percentiles(high), normal: percentiles(normal), fallbacks, hedges, upstreamRequests: stats.reduce((a, s) => a + s.forecastRequests, 0), byReplica: stats.map((s) => s.forecastRequests), stalls: stats.reduce((a, s) => a + (s.faults.hang ?? 0), 0) }
  } finally {
    await runner.close()
  }
}

export interface HedgingResult {
  readonly off: Run
  readonly on: Run
  readonly criteria: readonly Criterion[]
}

export async function runHedging(durationMs: number): Promise<HedgingResult> {
  const group = new ProcessGroup()
  try {
    const sims = [await group.simulator(HEDGING.stalled), await group.simulator(HEDGING.healthy)]
    const off = await run(sims, 0, durationMs, 'off')
    const on = await run(sims, 'adaptive', durationMs, 'on')
    const ratio = on.high.p99 / off.high.p99
    const share = on.upstreamRequests === 0 ? 0 : on.hedges / on.upstreamRequests
    const criteria = [
      // Without stalls in both runs the comparison says nothing (the rates draw per request, and
      // the routing decides how many requests the stalling replica gets).
      criterion('gate', 'stalls met by each run', '≥ 3 each', `${off.stalls} off, ${on.stalls} on`, off.stalls >= 3 && on.stalls >= 3),
      criterion('gate', 'high-priority p99: hedging ÷ no hedging', `≤ ${HEDGING.maxP99Ratio}`, `${ratio.toFixed(2)} (${ms(on.high.p99)} ÷ ${ms(off.high.p99)})`, ratio <= HEDGING.maxP99Ratio),
      criterion('gate', 'hedges among upstream requests', `≤ ${pct(HEDGING.maxHedgeShare)}`, `${pct(share)} (${on.hedges} of ${on.upstreamRequests})`, share <= HEDGING.maxHedgeShare),
    ]
    return { off, on, criteria }
  } finally {
    await group.stopAll()
  }
}

function line(name: string, r: Run): string {
  const normal = r.normal.count === 0 ? '' : `, normal p50 ${ms(r.normal.p50)} p99 ${ms(r.normal.p99)} (${r.normal.count})`
  return `${name}: high p50 ${ms(r.high.p50)} p99 ${ms(r.high.p99)} (${r.high.count})${normal}, fallbacks ${r.fallbacks}, stalls ${r.stalls}, hedges ${r.hedges} of ${r.upstreamRequests} upstream requests (${r.byReplica.join(' to the stalling replica, ')} to the other)`
}

runIfEntry(import.meta.url, 'lanes-hedging', async (argv) => {
  const res = await runHedging(intFlag(argv, 'duration-ms', HEDGING.durationMs))
  console.log([`== hedged requests (one of two replicas stalls 10 % of requests for 2 s; ${HEDGING.callers} callers, ${HEDGING.high} high priority)`, line('hedging off', res.off), line('hedging adaptive', res.on), formatCriteria(res.criteria)].join('\n'))
  console.log(`saved to ${saveResult('lanes-hedging', { options: HEDGING, off: res.off, on: res.on, criteria: res.criteria })}`)
  return allPass(res.criteria) ? 0 : 1
})
