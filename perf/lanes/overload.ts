/**
 * Overload (issue "upstream lanes", must-show list): 128 closed-loop clients, each asking for a
 * market never seen before, against the tollama-shaped simulator (one request at a time per
 * model, 25 ms + 1.2 ms per series) for 60 s. What the lane must do with four times the 32
 * clients of throughput.ts: full batches, a short queue inside tollama, the deadline kept for
 * what it admits and an early answer for what it sheds — never a breaker or mode change.
 *
 * How each criterion is measured (every time a ratio to the upstream's own figures of this run):
 *  - admitted requests meet their deadline: the client-side p99 of answers from the upstream, and
 *    the p99 of the daemon's own `meta.timings_ms.total` of those answers, ≤ deadline_budget_ms
 *    (1 600 ms); no other fallback than `queue_timeout`, no error, no invalid answer;
 *  - shed requests are answered promptly: client-side p99 of `queue_timeout` answers ≤ 100 ms
 *    (vacuous when nothing was shed: the count is printed next to it);
 *  - breaker and mode: `GET /tsfm/state` every second, `lanes[model].breaker.state` is `closed`
 *    and `mode.mode` is `normal` in every sample;
 *  - the upstream's own queue stays short: the daemon's `tollama_latency_ms` histogram
 *    (`/metrics`, every `/api/forecast` attempt of the run: read before and after, the
 *    difference) gives the total upstream latency Σ rtt; the simulator's `batchSizes` (reset at
 *    the start) give every request's series count n_i, and T(n) — the upstream's own no-load
 *    time for n series, measured in this run with `measureShape` at 1, 16, 32, 64 and 128 series
 *    (least-squares line in between) — gives Σ T(n_i). Their ratio is the mean latency over the
 *    mean no-load latency of the same requests: ≤ 2. The bucket-based p95 bound of the latency
 *    (coarse: buckets 100/250/500 ms) and the simulator's longest FIFO for the model
 *    (`byModel[model].maxQueued`: requests waiting behind the running one) are printed too;
 *  - forecasts per second from the upstream, reported as a ratio to 128 / T(128) (the upstream's
 *    capacity with full 128-series batches).
 *
 * A closed loop regulates itself: 128 clients keep ~2 batches of work at the upstream (latency
 * ~2 × T(64..128), far inside the deadline), so nothing is shed and the shed criterion would be
 * vacuous. A second, shorter phase therefore offers open-loop arrivals (paced, distinct markets)
 * at 1.5 × 128/T(128) for `--open-ms` (0 skips it): there the lane must shed, and the same
 * criteria are judged on that phase.
 *
 * Run: make bench-lanes-overload
 *      (node dist/perf/lanes/overload.js [--duration-ms N] [--clients N] [--open-ms N] [--open-rate-x X])
 */
import { DEFAULTS } from '../../src/config/defaults.js'
import { runIfEntry } from '../../src/entry.js'
import type { SimStats } from '../../src/sim/types.js'
import { benchConfig } from '../load/bench-config.js'
import { daemonState, simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag, numFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { EMPTY_PERCENTILES, round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { bucketPercentile, fetchMetrics, histogram, histogramDelta, type Histogram } from '../load/prom-text.js'
import { compact, formatCriteria, formatRuns, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import { SLOW_FALLBACK_MS, type LoadReport } from '../load/tally.js'
import { runPrefix, warmUp } from '../profiles/normal-load.js'
import { deviations, formatTally, LaneWatch, tally, type WatchSample } from './lane-watch.js'
import { fitShape, measureShape, shapeT, TOLLAMA_SHAPE, type UpstreamShape } from './upstream-shape.js'

export const OVERLOAD = {
  clients: 128,
  durationMs: 60_000,
  openMs: 15_000,
  /** Open-loop arrival rate, × 128/T(128). */
  openRateX: 1.5,
  /** Connections of the open-loop phase (outstanding requests at most). */
  openConnections: 2048,
  sampleMs: 1000,
  deadlineMs: DEFAULTS.adapter.deadline_budget_ms,
  maxShedP99Ms: 100,
  maxUpstreamOverNoLoad: 2,
  shapeSizes: [1, 16, 32, 64, 128],
} as const

const MODEL = DEFAULTS.adapter.model

export interface UpstreamQueue {
  /** `tollama_latency_ms` of `/api/forecast` during the phase (every attempt, every outcome). */
  readonly latency: Histogram
  /** Σ T(n_i) over the requests the simulator received (ms). */
  readonly noLoadSumMs: number
  /** Requests the simulator received, and how many of their sizes it listed. */
  readonly requests: number
  readonly sizesListed: number
  /** Σ rtt / Σ T(n_i). */
  readonly ratio: number
  readonly meanLatencyMs: number
  readonly meanNoLoadMs: number
  readonly meanBatch: number
  readonly p95BoundMs: number
  readonly maxQueued: number
}

export interface Phase {
  readonly label: string
  readonly report: LoadReport
  readonly samples: readonly WatchSample[]
  readonly misses: number
  readonly upstream: UpstreamQueue
  readonly upstreamPerS: number
  /** Offered arrivals per second (open loop), null for the closed loop. */
  readonly offeredPerS: number | null
  /** Jobs the lane shed during the phase (`lanes[model].io.shed`, difference). */
  readonly shed: number
  readonly criteria: readonly Criterion[]
}

export interface OverloadResult {
  readonly shape: UpstreamShape
  /** 128 / T(128), forecasts per second. */
  readonly fullBatchCap: number
  readonly phases: readonly Phase[]
}

export interface OverloadOptions {
  readonly durationMs: number
  readonly clients: number
  readonly openMs: number
  readonly openRateX: number
}

/** Σ rtt over Σ T(n_i): the upstream's latency for a phase's requests against its own no-load latency for the same sizes. */
export function upstreamQueue(latency: Histogram, stats: SimStats, shape: UpstreamShape, model: string): UpstreamQueue {
  const sizes = stats.batchSizes
  let noLoad = 0
  for (const n of sizes) noLoad += shapeT(shape, n)
  // batchSizes keeps the first 10 000 sizes: scale to every request if it was cut short.
  if (sizes.length > 0 && stats.forecastRequests > sizes.length) noLoad *= stats.forecastRequests / sizes.length
  const requests = stats.forecastRequests
  return {
    latency,
    noLoadSumMs: noLoad,
    requests,
    sizesListed: sizes.length,
    ratio: noLoad === 0 ? Number.NaN : latency.sum / noLoad,
    meanLatencyMs: latency.count === 0 ? Number.NaN : latency.sum / latency.count,
    meanNoLoadMs: requests === 0 ? Number.NaN : noLoad / requests,
    meanBatch: requests === 0 ? 0 : stats.seriesTotal / requests,
    p95BoundMs: bucketPercentile(latency, 95),
    maxQueued: stats.byModel[model]?.maxQueued ?? 0,
  }
}

async function shedSoFar(daemon: Child): Promise<number> {
  return (await daemonState(daemon.url)).lanes[MODEL]?.io?.shed ?? 0
}

interface PhasePlan {
  readonly label: string
  readonly loader: Loader
  readonly concurrency: number
  readonly durationMs: number
  readonly ratePerS?: number
}

async function phase(sim: Child, daemon: Child, shape: UpstreamShape, plan: PhasePlan): Promise<Omit<Phase, 'criteria'>> {
  await simReset(sim.url)
  const shed0 = await shedSoFar(daemon)
  const before = histogram(await fetchMetrics(daemon.url), 'tollama_latency_ms', { endpoint: '/api/forecast' })
  const watch = new LaneWatch(daemon.url, OVERLOAD.sampleMs).start()
  const mix = new RequestMix({ prefix: runPrefix(`lanes-overload-${plan.label.replace(/\W+/g, '-')}`), uniqueKeys: Number.POSITIVE_INFINITY })
  const report = await plan.loader.run({ mix, concurrency: plan.concurrency, durationMs: plan.durationMs, ...(plan.ratePerS === undefined ? {} : { ratePerS: plan.ratePerS }) })
  const samples = await watch.stop()
  // The lane reports its figures every 250 ms while outcomes flow: wait for the last report.
  await new Promise((r) => setTimeout(r, 300))
  const after = histogram(await fetchMetrics(daemon.url), 'tollama_latency_ms', { endpoint: '/api/forecast' })
  const stats = await simStats(sim.url)
  const shed = (await shedSoFar(daemon)) - shed0
  return {
    label: plan.label,
    report,
    samples,
    misses: watch.misses,
    upstream: upstreamQueue(histogramDelta(after, before), stats, shape, MODEL),
    upstreamPerS: (report.success / report.wall_ms) * 1000,
    offeredPerS: plan.ratePerS ?? null,
    shed,
  }
}

export async function runOverload(opts: OverloadOptions): Promise<OverloadResult> {
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator(TOLLAMA_SHAPE)
    const daemon = await group.daemon(benchConfig(sim.url), 'daemon (stock)')
    const loader = new Loader(daemon.url, opts.clients)
    const open = opts.openMs > 0 ? new Loader(daemon.url, OVERLOAD.openConnections) : null
    try {
      await warmUp(loader, 32)
      const shape = await measureShape(sim.url, OVERLOAD.shapeSizes)
      const fullBatchCap = (128 / shapeT(shape, 128)) * 1000
      const phases: Phase[] = []
      const closed = await phase(sim, daemon, shape, { label: `closed loop, ${opts.clients} clients`, loader, concurrency: opts.clients, durationMs: opts.durationMs })
      phases.push({ ...closed, criteria: judge(closed) })
      if (open !== null) {
        const ratePerS = opts.openRateX * fullBatchCap
        const p = await phase(sim, daemon, shape, { label: `open loop, ${opts.openRateX} × 128/T128`, loader: open, concurrency: OVERLOAD.openConnections, durationMs: opts.openMs, ratePerS })
        phases.push({ ...p, criteria: judge(p) })
      }
      return { shape, fullBatchCap, phases }
    } finally {
      await loader.close()
      await open?.close()
    }
  } finally {
    await group.stopAll()
  }
}

function judge(r: Omit<Phase, 'criteria'>): Criterion[] {
  const rep = r.report
  const d = OVERLOAD.deadlineMs
  const tag = r.offeredPerS === null ? 'closed' : 'open'
  const shedLat = rep.latency_by_reason_ms.queue_timeout ?? EMPTY_PERCENTILES
  const shedDaemon = rep.daemon_by_reason_ms.queue_timeout ?? EMPTY_PERCENTILES
  const otherFallbacks = Object.entries(rep.fallbacks_by_reason).filter(([k]) => k !== 'queue_timeout')
  const otherCount = otherFallbacks.reduce((s, [, v]) => s + v, 0) + rep.errors + rep.invalid
  const breakerOff = deviations(r.samples, (s) => s.lanes[MODEL]?.breaker ?? null, 'closed')
  const modeOff = deviations(r.samples, (s) => s.mode, 'normal')
  const u = r.upstream
  const up = rep.latency_upstream_ms
  const upDaemon = rep.daemon_upstream_ms
  return [
    criterion('target', `${tag}: ${rep.success} answers from the upstream, client-side p99 (max)`, `≤ deadline ${ms(d)}`, `${ms(up.p99)} (${ms(up.max)})`, up.count > 0 && up.p99 <= d),
    criterion('target', `${tag}: the same, daemon timings_ms.total p99 (max)`, `≤ ${ms(d)}`, `${ms(upDaemon.p99)} (${ms(upDaemon.max)})`, upDaemon.count > 0 && upDaemon.p99 <= d),
    criterion('target', `${tag}: fallbacks other than queue_timeout, errors, invalid`, '0', otherCount === 0 ? '0' : `${otherCount}: ${otherFallbacks.map(([k, v]) => `${k} ${v}`).join(', ')} errors ${rep.errors} invalid ${rep.invalid}`, otherCount === 0),
    criterion(
      'target',
      `${tag}: shed (queue_timeout) answers, client-side p99 (daemon p99)`,
      `≤ ${ms(OVERLOAD.maxShedP99Ms)}`,
      shedLat.count === 0 ? 'none shed' : `${ms(shedLat.p99)} (${ms(shedDaemon.p99)}); ${rep.slow_fallbacks_by_reason.queue_timeout ?? 0}/${shedLat.count} > ${SLOW_FALLBACK_MS} ms`,
      shedLat.count === 0 || shedLat.p99 <= OVERLOAD.maxShedP99Ms,
    ),
    criterion('target', `${tag}: breaker of lane ${MODEL} (every ${OVERLOAD.sampleMs / 1000} s)`, `closed in all ${r.samples.length}`, formatTally(tally(r.samples, (s) => s.lanes[MODEL]?.breaker ?? null)), r.samples.length > 0 && breakerOff.length === 0),
    criterion('target', `${tag}: mode (every ${OVERLOAD.sampleMs / 1000} s)`, `normal in all ${r.samples.length}`, formatTally(tally(r.samples, (s) => s.mode)), r.samples.length > 0 && modeOff.length === 0),
    criterion(
      'target',
      `${tag}: upstream's latency Σ rtt / Σ T(n) of the same requests`,
      `≤ ${OVERLOAD.maxUpstreamOverNoLoad}×`,
      `${u.ratio.toFixed(2)}× (mean ${ms(u.meanLatencyMs)} vs ${ms(u.meanNoLoadMs)}; ${u.latency.count} rtts, ${u.requests} requests)`,
      u.ratio <= OVERLOAD.maxUpstreamOverNoLoad,
    ),
  ]
}

function costText(s: WatchSample): string {
  const l = s.lanes[MODEL]
  return l?.cost_fixed_ms == null || l.cost_per_series_ms == null ? '-' : `${l.cost_fixed_ms.toFixed(1)}+${l.cost_per_series_ms.toFixed(3)}`
}

function shedLine(rep: LoadReport): string {
  const s = rep.latency_by_reason_ms.queue_timeout
  if (s === undefined) return 'shed answers: none'
  const slow = rep.slow_fallbacks_by_reason.queue_timeout ?? 0
  return `shed answers (client-side): p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)}, mean ${ms(s.mean)} over ${s.count}; ${slow} (${((100 * slow) / s.count).toFixed(1)} %) took > ${SLOW_FALLBACK_MS} ms`
}

function describePhase(p: Phase, r: OverloadResult): string {
  const u = p.upstream
  const limits = p.samples.map((s) => s.lanes[MODEL]?.limit ?? '-')
  const queued = p.samples.map((s) => s.lanes[MODEL]?.queued ?? '-')
  const offered = p.offeredPerS === null ? '' : `offered ${p.offeredPerS.toFixed(0)}/s, `
  return [
    `-- ${p.label}`,
    formatRuns([{ label: p.label.split(',')[0] as string, report: p.report }]),
    `${offered}from the upstream: ${p.upstreamPerS.toFixed(0)}/s = ${(p.upstreamPerS / r.fullBatchCap).toFixed(2)} × (128/T128); ${u.requests} upstream requests, mean ${u.meanBatch.toFixed(1)} series; shed by the lane ${p.shed}`,
    `upstream latency: mean ${ms(u.meanLatencyMs)} against ${ms(u.meanNoLoadMs)} no-load for the same sizes (${u.ratio.toFixed(2)}×), p95 ≤ ${ms(u.p95BoundMs)} (bucket bound; 2 × T128 = ${ms(2 * shapeT(r.shape, 128))}); simulator's longest FIFO for ${MODEL}: ${u.maxQueued} waiting`,
    `lane limit by second: ${limits.join(' ')}`,
    `lane queued by second: ${queued.join(' ')}${p.misses > 0 ? ` (${p.misses} state polls missed)` : ''}`,
    `lane cost model by second (fixed + per series, ms): ${p.samples.map((s) => costText(s)).join(' ')}`,
    shedLine(p.report),
    formatCriteria(p.criteria),
  ].join('\n')
}

export function describeOverload(r: OverloadResult, opts: OverloadOptions): string {
  const f = fitShape(r.shape)
  return [
    `== overload: ${opts.clients} closed-loop clients (distinct markets) for ${ms(opts.durationMs)}${opts.openMs > 0 ? `, then open-loop arrivals at ${opts.openRateX} × 128/T128 for ${ms(opts.openMs)}` : ''} (simulator: ${TOLLAMA_SHAPE.join(' ')})`,
    `upstream alone: ${Object.entries(r.shape.t).map(([n, t]) => `T${n} ${ms(t)}`).join(', ')} (fit ${f.fixedMs.toFixed(1)} + ${f.perSeriesMs.toFixed(3)} ms/series); 128/T128 = ${r.fullBatchCap.toFixed(0)} forecasts/s`,
    ...r.phases.map((p) => describePhase(p, r)),
  ].join('\n')
}

export function overloadJson(r: OverloadResult, opts: OverloadOptions): Record<string, unknown> {
  return {
    options: { ...OVERLOAD, ...opts },
    upstream_shape: { t_ms: Object.fromEntries(Object.entries(r.shape.t).map(([k, v]) => [k, round(v)])), fit: fitShape(r.shape), full_batch_cap_per_s: round(r.fullBatchCap) },
    phases: r.phases.map((p) => {
      const u = p.upstream
      return {
        label: p.label,
        offered_per_s: p.offeredPerS === null ? null : round(p.offeredPerS),
        report: compact(p.report),
        upstream_per_s: round(p.upstreamPerS),
        upstream_per_s_over_full_batch_cap: round(p.upstreamPerS / r.fullBatchCap),
        shed: p.shed,
        upstream_queue: {
          ratio: round(u.ratio),
          mean_latency_ms: round(u.meanLatencyMs),
          mean_no_load_ms: round(u.meanNoLoadMs),
          rtts: u.latency.count,
          requests: u.requests,
          sizes_listed: u.sizesListed,
          mean_batch: round(u.meanBatch),
          p95_bound_ms: u.p95BoundMs,
          max_queued: u.maxQueued,
          buckets: Object.fromEntries(u.latency.le.map((le, i) => [String(le), u.latency.counts[i]])),
        },
        samples: p.samples,
        criteria: p.criteria,
      }
    }),
    criteria: r.phases.flatMap((p) => p.criteria),
  }
}

runIfEntry(import.meta.url, 'lanes-overload', async (argv) => {
  const opts: OverloadOptions = {
    durationMs: intFlag(argv, 'duration-ms', OVERLOAD.durationMs),
    clients: intFlag(argv, 'clients', OVERLOAD.clients),
    openMs: numFlag(argv, 'open-ms', OVERLOAD.openMs),
    openRateX: numFlag(argv, 'open-rate-x', OVERLOAD.openRateX),
  }
  const res = await runOverload(opts)
  console.log(describeOverload(res, opts))
  console.log(`saved to ${saveResult('lanes-overload', overloadJson(res, opts))}`)
  return allPass(res.phases.flatMap((p) => p.criteria)) ? 0 : 1
})
