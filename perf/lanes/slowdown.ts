/**
 * The upstream slows down, then recovers (issue "upstream lanes", must-show list): 32
 * closed-loop clients (distinct markets) against the tollama-shaped simulator; after
 * `--normal-ms` the simulator becomes 4× slower (`POST /_sim/latency`, fixed and per-series
 * cost both × 4: 100 ms + 4.8 ms per series) for `--slow-ms`, then returns to 25 + 1.2 for
 * `--after-ms`. The load never stops; `GET /tsfm/state` is sampled every 250 ms.
 *
 * How each criterion is measured:
 *  - the lane's limit falls during the slow phase: the lowest `lanes[model].io.limit` sampled in
 *    the slow phase is below the median of the normal phase;
 *  - and comes back after: the median of the second half of the recovered phase is at least the
 *    normal phase's median (the whole series is printed, with the phase boundaries);
 *  - no `upstream_timeout` answer at all, and no `deadline_exceeded` (the slow upstream still
 *    answers a 32-series request in ~0.25 s, far inside the 1.2 s attempt timeout and the 1.6 s
 *    deadline: a deadline missed here can only be our own queueing);
 *  - breaker closed and mode normal in every sample;
 *  - the lane's model of the upstream comes back too: at the end, its cost model's predictions
 *    (`cost_fixed_ms + n × cost_per_series_ms` from `/tsfm/state`) for the batch the closed loop
 *    sends (32) and for a full batch (128: bursts, cycles) are within 1.5× of the measured T32
 *    and T128 (either way);
 *  - what that model does next: right after the run, 200 concurrent forecasts (throughput.ts's
 *    burst) — all 200 from the upstream, as on a lane that never saw a slowdown.
 * Also reported, per phase: forecasts from the upstream per second as a ratio to that phase's
 * CAP = 32 / T32 (T32 measured before the load with the simulator at each speed), mean batch,
 * and every fallback by reason.
 *
 * Run: make bench-lanes-slowdown
 *      (node dist/perf/lanes/slowdown.js [--normal-ms N] [--slow-ms N] [--after-ms N] [--factor X] [--clients N])
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULTS } from '../../src/config/defaults.js'
import { runIfEntry } from '../../src/entry.js'
import type { SimStats } from '../../src/sim/types.js'
import { benchConfig } from '../load/bench-config.js'
import { simLatency, simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag, numFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { median, round } from '../load/percentiles.js'
import { ProcessGroup } from '../load/processes.js'
import { compact, formatCriteria, formatRuns, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import type { LoadReport } from '../load/tally.js'
import { runPrefix, warmUp } from '../profiles/normal-load.js'
import { deviations, formatTally, LaneWatch, tally, type WatchSample } from './lane-watch.js'
import { measureShape, TOLLAMA_SHAPE } from './upstream-shape.js'

export const SLOWDOWN = {
  clients: 32,
  normalMs: 5000,
  slowMs: 20_000,
  afterMs: 10_000,
  factor: 4,
  sampleMs: 250,
  fixedMs: 25,
  perSeriesMs: 1.2,
} as const

const MODEL = DEFAULTS.adapter.model
const BURST = 200
const MAX_MODEL_ERROR = 1.5

export interface SlowdownOptions {
  readonly clients: number
  readonly normalMs: number
  readonly slowMs: number
  readonly afterMs: number
  readonly factor: number
}

export interface PhaseFigures {
  readonly name: 'normal' | 'slow' | 'after'
  /** ms since the watch started. */
  readonly from: number
  readonly to: number
  readonly t32: number
  readonly cap: number
  readonly upstreamRequests: number
  readonly upstreamSeries: number
  readonly upstreamPerS: number
  readonly meanBatch: number
  readonly limits: readonly number[]
}

export interface SlowdownResult {
  readonly report: LoadReport
  readonly samples: readonly WatchSample[]
  readonly phases: readonly PhaseFigures[]
  /** The lane's predicted cost of a 32- and a 128-series request at the end, and the measured T32, T128. */
  readonly predictedT32: number
  readonly t32: number
  readonly predictedT128: number
  readonly t128: number
  readonly burst: LoadReport
  readonly t200: number
  readonly criteria: readonly Criterion[]
}

function limitsIn(samples: readonly WatchSample[], from: number, to: number): number[] {
  return samples.filter((s) => s.t >= from && s.t < to).map((s) => s.lanes[MODEL]?.limit ?? Number.NaN).filter((v) => !Number.isNaN(v))
}

export async function runSlowdown(opts: SlowdownOptions): Promise<SlowdownResult> {
  const normal = { fixedMs: SLOWDOWN.fixedMs, perSeriesMs: SLOWDOWN.perSeriesMs }
  const slow = { fixedMs: SLOWDOWN.fixedMs * opts.factor, perSeriesMs: SLOWDOWN.perSeriesMs * opts.factor }
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator(TOLLAMA_SHAPE)
    const daemon = await group.daemon(benchConfig(sim.url), 'daemon (stock)')
    const loader = new Loader(daemon.url, opts.clients)
    const burstLoader = new Loader(daemon.url, BURST)
    try {
      await warmUp(loader, opts.clients)
      // The upstream's own T32 at both speeds, the daemon idle.
      const shapeNormal = await measureShape(sim.url, [32, 128])
      const t32Normal = shapeNormal.t32
      await simLatency(sim.url, slow)
      const t32Slow = (await measureShape(sim.url, [32], 5)).t32
      await simLatency(sim.url, normal)
      await sleep(1000) // lets the lane's report settle before sampling starts
      await simReset(sim.url)

      const watch = new LaneWatch(daemon.url, SLOWDOWN.sampleMs).start()
      const mix = new RequestMix({ prefix: runPrefix('lanes-slowdown'), uniqueKeys: Number.POSITIVE_INFINITY })
      const total = opts.normalMs + opts.slowMs + opts.afterMs
      const load = loader.run({ mix, concurrency: opts.clients, durationMs: total })
      const marks: { t: number; stats: SimStats }[] = [{ t: watch.now(), stats: await simStats(sim.url) }]
      await sleep(opts.normalMs)
      marks.push({ t: watch.now(), stats: await simStats(sim.url) })
      await simLatency(sim.url, slow)
      await sleep(opts.slowMs)
      marks.push({ t: watch.now(), stats: await simStats(sim.url) })
      await simLatency(sim.url, normal)
      const report = await load
      marks.push({ t: watch.now(), stats: await simStats(sim.url) })
      const samples = await watch.stop()
      const end = samples[samples.length - 1]?.lanes[MODEL]
      const predict = (n: number): number => (end?.cost_fixed_ms == null || end.cost_per_series_ms == null ? Number.NaN : end.cost_fixed_ms + n * end.cost_per_series_ms)
      const predictedT32 = predict(32)
      const predictedT128 = predict(128)
      await simReset(sim.url)
      const burstMix = new RequestMix({ prefix: runPrefix('lanes-slowdown-burst'), uniqueKeys: BURST, requests: BURST })
      const burst = await burstLoader.run({ mix: burstMix, concurrency: BURST, requests: BURST })

      const names = ['normal', 'slow', 'after'] as const
      const phases: PhaseFigures[] = names.map((name, i) => {
        const a = marks[i] as { t: number; stats: SimStats }
        const b = marks[i + 1] as { t: number; stats: SimStats }
        const requests = b.stats.forecastRequests - a.stats.forecastRequests
        const series = b.stats.seriesTotal - a.stats.seriesTotal
        const t32 = name === 'slow' ? t32Slow : t32Normal
        return {
          name,
          from: a.t,
          to: b.t,
          t32,
          cap: (32 / t32) * 1000,
          upstreamRequests: requests,
          upstreamSeries: series,
          upstreamPerS: (series / (b.t - a.t)) * 1000,
          meanBatch: requests === 0 ? 0 : series / requests,
          limits: limitsIn(samples, a.t, b.t),
        }
      })
      const res = { report, samples, phases, predictedT32, t32: t32Normal, predictedT128, t128: shapeNormal.t[128] as number, burst, t200: shapeNormal.t200 }
      return { ...res, criteria: judge(res) }
    } finally {
      await loader.close()
      await burstLoader.close()
    }
  } finally {
    await group.stopAll()
  }
}

function judge(r: Omit<SlowdownResult, 'criteria'>): Criterion[] {
  const { report, samples, phases } = r
  const [normal, slow, after] = phases as [PhaseFigures, PhaseFigures, PhaseFigures]
  const base = median([...normal.limits])
  const slowMin = Math.min(...slow.limits)
  const late = after.limits.slice(Math.floor(after.limits.length / 2))
  const lateMedian = median(late)
  const timeouts = report.fallbacks_by_reason.upstream_timeout ?? 0
  const deadline = report.fallbacks_by_reason.deadline_exceeded ?? 0
  const breakerOff = deviations(samples, (s) => s.lanes[MODEL]?.breaker ?? null, 'closed')
  const modeOff = deviations(samples, (s) => s.mode, 'normal')
  return [
    criterion('target', 'lane limit falls in the slow phase', `min < normal median (${base})`, `min ${slowMin} (slow samples: ${formatTally(countValues(slow.limits))})`, slow.limits.length > 0 && slowMin < base),
    criterion('target', 'lane limit back after the slow phase', `median of the last half ≥ ${base}`, `${lateMedian} (${formatTally(countValues(late))})`, late.length > 0 && lateMedian >= base),
    criterion('target', 'upstream_timeout answers', '0', String(timeouts), timeouts === 0),
    criterion('target', 'deadline_exceeded answers', '0', String(deadline), deadline === 0),
    criterion('target', `breaker of lane ${MODEL} (every ${SLOWDOWN.sampleMs} ms)`, `closed in all ${samples.length}`, formatTally(tally(samples, (s) => s.lanes[MODEL]?.breaker ?? null)), samples.length > 0 && breakerOff.length === 0),
    criterion('target', `mode (every ${SLOWDOWN.sampleMs} ms)`, `normal in all ${samples.length}`, formatTally(tally(samples, (s) => s.mode)), samples.length > 0 && modeOff.length === 0),
    criterion('target', "after: the lane's predicted cost of 32 series / measured T32", `within ${MAX_MODEL_ERROR}× either way`, `${ms(r.predictedT32)} / ${ms(r.t32)} = ${(r.predictedT32 / r.t32).toFixed(2)}×`, within(r.predictedT32, r.t32)),
    criterion('target', "after: the lane's predicted cost of 128 series / measured T128", `within ${MAX_MODEL_ERROR}× either way`, `${ms(r.predictedT128)} / ${ms(r.t128)} = ${(r.predictedT128 / r.t128).toFixed(2)}×`, within(r.predictedT128, r.t128)),
    criterion('target', `after: ${BURST} concurrent forecasts from the upstream`, `${BURST}/${BURST}`, `${r.burst.success}/${BURST}${r.burst.fallbacks > 0 ? ` (${Object.entries(r.burst.fallbacks_by_reason).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''} in ${ms(r.burst.wall_ms)} (${(r.burst.wall_ms / r.t200).toFixed(2)} × T200)`, r.burst.success === BURST),
  ]
}

function within(predicted: number, measured: number): boolean {
  return predicted / measured <= MAX_MODEL_ERROR && measured / predicted <= MAX_MODEL_ERROR
}

function countValues(v: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const x of v) out[String(x)] = (out[String(x)] ?? 0) + 1
  return out
}

export function describeSlowdown(r: SlowdownResult, opts: SlowdownOptions): string {
  const lines = [
    `== slowdown: ${opts.clients} closed-loop clients; simulator ${TOLLAMA_SHAPE.join(' ')}, × ${opts.factor} from ${ms(opts.normalMs)} for ${ms(opts.slowMs)}, then back for ${ms(opts.afterMs)}`,
    formatRuns([{ label: 'whole run', report: r.report }]),
    ...r.phases.map(
      (p) =>
        `${p.name.padEnd(6)} ${(p.from / 1000).toFixed(1)}–${(p.to / 1000).toFixed(1)} s: T32 ${ms(p.t32)}, ${p.upstreamPerS.toFixed(0)} forecasts/s from the upstream = ${(p.upstreamPerS / p.cap).toFixed(2)} × CAP (${p.cap.toFixed(0)}/s); ${p.upstreamRequests} requests, mean ${p.meanBatch.toFixed(1)} series`,
    ),
    'lane limit every 250 ms (| = phase change):',
    limitSeries(r),
    `cost model (fixed + per series) at the end of each phase: ${r.phases.map((p) => costAt(r.samples, p.to)).join(' | ')}`,
    formatCriteria(r.criteria),
  ]
  return lines.join('\n')
}

function costAt(samples: readonly WatchSample[], t: number): string {
  const before = samples.filter((s) => s.t <= t)
  const s = before[before.length - 1]?.lanes[MODEL]
  return s?.cost_fixed_ms == null || s.cost_per_series_ms == null ? '-' : `${s.cost_fixed_ms.toFixed(1)} + ${s.cost_per_series_ms.toFixed(3)}`
}

function limitSeries(r: SlowdownResult): string {
  return r.phases.map((p) => p.limits.join(' ')).join(' | ')
}

export function slowdownJson(r: SlowdownResult, opts: SlowdownOptions): Record<string, unknown> {
  return {
    options: { ...SLOWDOWN, ...opts },
    report: compact(r.report),
    phases: r.phases.map((p) => ({
      name: p.name,
      from_ms: round(p.from),
      to_ms: round(p.to),
      t32_ms: round(p.t32),
      cap_per_s: round(p.cap),
      upstream_per_s: round(p.upstreamPerS),
      over_cap: round(p.upstreamPerS / p.cap),
      upstream_requests: p.upstreamRequests,
      mean_batch: round(p.meanBatch),
      limits: p.limits,
    })),
    predicted_t32_ms: round(r.predictedT32),
    t32_ms: round(r.t32),
    predicted_t128_ms: round(r.predictedT128),
    t128_ms: round(r.t128),
    t200_ms: round(r.t200),
    burst: compact(r.burst),
    samples: r.samples,
    criteria: r.criteria,
  }
}

runIfEntry(import.meta.url, 'lanes-slowdown', async (argv) => {
  const opts: SlowdownOptions = {
    clients: intFlag(argv, 'clients', SLOWDOWN.clients),
    normalMs: intFlag(argv, 'normal-ms', SLOWDOWN.normalMs),
    slowMs: intFlag(argv, 'slow-ms', SLOWDOWN.slowMs),
    afterMs: intFlag(argv, 'after-ms', SLOWDOWN.afterMs),
    factor: numFlag(argv, 'factor', SLOWDOWN.factor),
  }
  const res = await runSlowdown(opts)
  console.log(describeSlowdown(res, opts))
  console.log(`saved to ${saveResult('lanes-slowdown', slowdownJson(res, opts))}`)
  return allPass(res.criteria) ? 0 : 1
})
