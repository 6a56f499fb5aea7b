/**
 * Upstream lanes against tollama's cost shape (issue "upstream lanes", must-show 1–3): the
 * simulator serves one request at a time per model at 25 ms + 1.2 ms per series, and every figure
 * is judged as a ratio to the upstream's own, measured in the same run (upstream-shape.ts): T32
 * and T200 (one 32- and one 200-series request), CAP = 32 / T32.
 *
 *  - closed loop: 32 clients, each sending its next forecast (a market never seen before) when
 *    its answer is in, for `durationMs` — forecasts answered from the upstream per second
 *    ≥ 0.8 × CAP, 0 fallbacks, p99 ≤ 4 × T32;
 *  - burst: 200 concurrent `POST /tsfm/forecast` — 200/200 from the upstream, wall ≤ 2.5 × T200;
 *  - cycle: `POST /tsfm/cycle` of 200 — wall ≤ 1.5 × T200.
 *
 * Run: make bench-lanes   (node dist/perf/lanes/throughput.js [--duration-ms N] [--runs N])
 */
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { daemonState, postCycle, simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { median, round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { compact, formatCriteria, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import type { LoadReport } from '../load/tally.js'
import { runPrefix, warmUp } from '../profiles/normal-load.js'
import { checkCycle, cycleBody, type CycleCheck } from '../cycle/cycle-run.js'
import { measureShape, TOLLAMA_SHAPE, type UpstreamShape } from './upstream-shape.js'

export const LANES = {
  clients: 32,
  durationMs: 8000,
  burst: 200,
  requiredCapShare: 0.8,
  maxP99OverT32: 4,
  maxBurstOverT200: 2.5,
  maxCycleOverT200: 1.5,
} as const

export interface ClosedLoopRun {
  readonly report: LoadReport
  /** Forecasts answered from the upstream per second. */
  readonly upstreamPerS: number
  readonly upstreamRequests: number
  readonly meanBatch: number
}

export interface LanesResult {
  readonly shape: UpstreamShape
  readonly closedLoop: readonly ClosedLoopRun[]
  readonly bursts: readonly LoadReport[]
  readonly cycles: readonly CycleCheck[]
  readonly criteria: readonly Criterion[]
}

export interface LanesOptions {
  readonly runs: number
  readonly durationMs: number
  /** Only the checks the CI gate runs (closed loop and burst). */
  readonly gateOnly?: boolean
}

async function closedLoop(sim: Child, loader: Loader, durationMs: number, run: number): Promise<ClosedLoopRun> {
  await simReset(sim.url)
  const mix = new RequestMix({ prefix: runPrefix(`lanes-loop-${run}`), uniqueKeys: Number.POSITIVE_INFINITY })
  const report = await loader.run({ mix, concurrency: LANES.clients, durationMs })
  const stats = await simStats(sim.url)
  return {
    report,
    upstreamPerS: (report.success / report.wall_ms) * 1000,
    upstreamRequests: stats.forecastRequests,
    meanBatch: stats.forecastRequests === 0 ? 0 : stats.seriesTotal / stats.forecastRequests,
  }
}

async function burst(sim: Child, loader: Loader, run: number): Promise<LoadReport> {
  await simReset(sim.url)
  const mix = new RequestMix({ prefix: runPrefix(`lanes-burst-${run}`), uniqueKeys: LANES.burst, requests: LANES.burst })
  return loader.run({ mix, concurrency: LANES.burst, requests: LANES.burst })
}

async function cycle(sim: Child, daemon: Child, run: number): Promise<CycleCheck> {
  await simReset(sim.url)
  const body = cycleBody(runPrefix(`lanes-cycle-${run}`), LANES.burst, 60_000)
  return checkCycle(await postCycle(daemon.url, body), body)
}

export async function runLanes(opts: LanesOptions): Promise<LanesResult> {
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator(TOLLAMA_SHAPE)
    const daemon = await group.daemon(benchConfig(sim.url), 'daemon (stock)')
    const loader = new Loader(daemon.url, LANES.burst)
    try {
      await warmUp(loader, LANES.clients)
      const shape = await measureShape(sim.url)
      const loops: ClosedLoopRun[] = []
      const bursts: LoadReport[] = []
      const cycles: CycleCheck[] = []
      for (let r = 0; r < opts.runs; r++) {
        loops.push(await closedLoop(sim, loader, opts.durationMs, r))
        bursts.push(await burst(sim, loader, r))
        if (opts.gateOnly !== true) cycles.push(await cycle(sim, daemon, r))
      }
      const state = await daemonState(daemon.url)
      if (state.breaker.state !== 'closed' || state.mode.mode !== 'normal') throw new Error(`the daemon left normal operation: breaker ${state.breaker.state}, mode ${state.mode.mode}`)
      return { shape, closedLoop: loops, bursts, cycles, criteria: judge(shape, loops, bursts, cycles) }
    } finally {
      await loader.close()
    }
  } finally {
    await group.stopAll()
  }
}

function judge(shape: UpstreamShape, loops: readonly ClosedLoopRun[], bursts: readonly LoadReport[], cycles: readonly CycleCheck[]): Criterion[] {
  const rate = median(loops.map((l) => l.upstreamPerS))
  const p99 = median(loops.map((l) => l.report.latency_ms.p99 ?? Number.POSITIVE_INFINITY))
  const loopFallbacks = loops.reduce((s, l) => s + l.report.fallbacks + l.report.errors + l.report.invalid, 0)
  const burstWall = median(bursts.map((b) => b.wall_ms))
  const burstMissing = bursts.reduce((s, b) => s + (LANES.burst - b.success), 0)
  const rows: Criterion[] = [
    criterion('gate', `closed loop, ${LANES.clients} clients: forecasts from the upstream per second`, `≥ ${LANES.requiredCapShare} × CAP = ${(LANES.requiredCapShare * shape.cap).toFixed(0)}/s`, `${rate.toFixed(0)}/s (${(rate / shape.cap).toFixed(2)} × CAP)`, rate >= LANES.requiredCapShare * shape.cap),
    criterion('gate', `closed loop, ${LANES.clients} clients: fallbacks, errors, invalid answers`, '0', String(loopFallbacks), loopFallbacks === 0),
    criterion('gate', `closed loop, ${LANES.clients} clients: p99 latency`, `≤ ${LANES.maxP99OverT32} × T32 = ${ms(LANES.maxP99OverT32 * shape.t32)}`, `${ms(p99)} (${(p99 / shape.t32).toFixed(2)} × T32)`, p99 <= LANES.maxP99OverT32 * shape.t32),
    criterion('gate', `${LANES.burst} concurrent forecasts: answered from the upstream`, `${LANES.burst}/${LANES.burst} each run`, bursts.map((b) => `${b.success}/${LANES.burst}`).join(', '), burstMissing === 0),
    criterion('gate', `${LANES.burst} concurrent forecasts: wall`, `≤ ${LANES.maxBurstOverT200} × T200 = ${ms(LANES.maxBurstOverT200 * shape.t200)}`, `${ms(burstWall)} (${(burstWall / shape.t200).toFixed(2)} × T200)`, burstWall <= LANES.maxBurstOverT200 * shape.t200),
  ]
  if (cycles.length > 0) {
    const cycleWall = median(cycles.map((c) => c.wallMs))
    const cycleMissing = cycles.reduce((s, c) => s + (LANES.burst - c.upstream), 0)
    rows.push(
      criterion('target', `cycle of ${LANES.burst}: every market from the upstream`, '0 fallbacks', String(cycleMissing), cycleMissing === 0),
      criterion('target', `cycle of ${LANES.burst}: wall`, `≤ ${LANES.maxCycleOverT200} × T200 = ${ms(LANES.maxCycleOverT200 * shape.t200)}`, `${ms(cycleWall)} (${(cycleWall / shape.t200).toFixed(2)} × T200)`, cycleWall <= LANES.maxCycleOverT200 * shape.t200),
    )
  }
  return rows
}

export function describeLanes(res: LanesResult): string {
  const s = res.shape
  const lines = [
    `== upstream lanes against tollama's shape (simulator: ${TOLLAMA_SHAPE.join(' ')})`,
    `upstream alone: T32 ${ms(s.t32)}, T200 ${ms(s.t200)}, CAP = 32/T32 = ${s.cap.toFixed(0)} forecasts/s`,
    ...res.closedLoop.map(
      (l, i) =>
        `closed loop run ${i + 1}: ${l.report.requests} answers in ${ms(l.report.wall_ms)}, ${l.upstreamPerS.toFixed(0)}/s from the upstream (${(l.upstreamPerS / s.cap).toFixed(2)} × CAP), p50 ${ms(l.report.latency_ms.p50 ?? 0)} p99 ${ms(l.report.latency_ms.p99 ?? 0)}, ${l.upstreamRequests} upstream requests (mean ${l.meanBatch.toFixed(1)} series), fallbacks ${l.report.fallbacks}`,
    ),
    ...res.bursts.map((b, i) => `burst run ${i + 1}: ${b.success}/${LANES.burst} from the upstream in ${ms(b.wall_ms)} (${(b.wall_ms / s.t200).toFixed(2)} × T200), fallbacks ${JSON.stringify(b.fallbacks_by_reason)}`),
    ...res.cycles.map((c, i) => `cycle run ${i + 1}: ${c.upstream}/${c.markets} from the upstream in ${ms(c.wallMs)} (${(c.wallMs / s.t200).toFixed(2)} × T200)`),
    formatCriteria(res.criteria),
  ]
  return lines.join('\n')
}

export function lanesJson(res: LanesResult): Record<string, unknown> {
  return {
    options: LANES,
    upstream: { t_ms: Object.fromEntries(Object.entries(res.shape.t).map(([k, v]) => [k, round(v)])), cap_per_s: round(res.shape.cap) },
    closed_loop: res.closedLoop.map((l) => ({ upstream_per_s: round(l.upstreamPerS), upstream_requests: l.upstreamRequests, mean_batch: round(l.meanBatch), ...compact(l.report) })),
    bursts: res.bursts.map(compact),
    cycles: res.cycles.map((c) => ({ wall_ms: round(c.wallMs), upstream: c.upstream, fallbacks: c.fallbacksByReason })),
    criteria: res.criteria,
  }
}

runIfEntry(import.meta.url, 'lanes', async (argv) => {
  const res = await runLanes({ runs: intFlag(argv, 'runs', 3), durationMs: intFlag(argv, 'duration-ms', LANES.durationMs) })
  console.log(describeLanes(res))
  console.log(`saved to ${saveResult('lanes', lanesJson(res))}`)
  return allPass(res.criteria) ? 0 : 1
})
