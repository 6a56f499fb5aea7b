/**
 * The embedded hot path (supervisor issue: "fallback answer (baseline) latency and a fresh cache
 * hit, embedded, in µs; target: p99 under 1 ms on this machine"): `runner.forecast(body)` through
 * `createRunner` with the real math pool and I/O actor, for a 288-point body with timestamps
 * (perf/http/forecast-bodies.ts), in four situations:
 *
 *   fresh cache hit          validation + key hash + cache lookup + answer
 *   breaker-open fallback    the upstream refuses connections and the breaker is open: a
 *                            baseline computed per request (never cached)
 *   gate fallback, computed  `too_few_points` (20 points) for a market not seen before: the
 *                            baseline computed, then cached
 *   gate fallback, cached    `baseline_only_liquidity_bucket` asked again: a cache hit
 *
 * Each is measured twice: a sequential loop timing every call (hrtime; the p50/p99/p999 below
 * are per call — mitata's percentiles are over batches of calls for functions this fast), then
 * mitata for the mean. Then the pieces of the hit path, each with the implementation it
 * replaced side by side (old vs new, same run):
 *   - `reanswer` (the per-hit meta rebuild): object spreads vs fields written out;
 *   - `y_ts` validation: the general ISO parser and a `%` per point vs the same-day fast path
 *     (src/request/same-day-timestamps.ts) and `%` only for gaps that are not one step;
 *   - the supervisor mailbox message: a `new Msg` per message vs reusing one (not adopted).
 * (The other hot-path pieces have their own side-by-side benchmarks: the JSON body parser in
 * perf/http/json-body.bench.ts, the answer serializer in perf/http/serialize.bench.ts, the grid
 * form of `y_ts` in the cache key in perf/cache/key.bench.ts.)
 * Figures land in perf/results/supervisor.json (section `answer`).
 *
 *   node dist/perf/supervisor/answer.bench.js [--calls 20000]
 */
import { NOT_LOADED } from '../../src/conformal/choice.js'
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { Mailbox } from '../../src/actor/mailbox.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import { silentLogger } from '../../src/log.js'
import type { FallbackReason } from '../../src/reasons.js'
import { DayMemo, parseSameDayTimestamp } from '../../src/request/same-day-timestamps.js'
import { newParsedTimestamp, parseIsoTimestamp } from '../../src/request/timestamp.js'
import { defaultsFromConfig, validateForecastRequest } from '../../src/request/validate.js'
import type { ForecastMeta, ForecastResponse } from '../../src/response.js'
import { createRunner, type Runner } from '../../src/runner.js'
import { startSimulator } from '../../src/sim/index.js'
import { reanswer, type AnswerState, type Timings } from '../../src/supervisor/answer.js'
import { forecastBody } from '../http/forecast-bodies.js'
import { saveResults } from '../http/results.js'
import { closedPort } from '../load/ports.js'

const argv = process.argv.slice(2)
const callsArg = argv.indexOf('--calls')
const CALLS = callsArg >= 0 ? Number(argv[callsArg + 1]) : 20_000

interface Percentiles {
  readonly calls: number
  readonly mean_us: number
  readonly p50_us: number
  readonly p99_us: number
  readonly p999_us: number
  readonly max_us: number
}

/** Sequential calls, each timed on its own (warm-up calls first, not recorded). */
async function percentiles(fn: (i: number) => Promise<unknown>, calls: number): Promise<Percentiles> {
  for (let i = 0; i < Math.min(calls, 5_000); i++) await fn(i)
  const lat = new Float64Array(calls)
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint()
    await fn(i)
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  let sum = 0
  for (let i = 0; i < calls; i++) sum += lat[i] as number
  lat.sort()
  const at = (p: number): number => round2(lat[Math.floor(p * (calls - 1))] as number)
  return { calls, mean_us: round2(sum / calls), p50_us: at(0.5), p99_us: at(0.99), p999_us: at(0.999), max_us: round2(lat[calls - 1] as number) }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

function expectAnswer(r: ForecastResponse, cacheHit: boolean, reason: FallbackReason | null): void {
  if (r.meta.cache_hit !== cacheHit || r.meta.fallback_reason !== reason) {
    throw new Error(`expected cache_hit ${cacheHit} and reason ${String(reason)}, got ${JSON.stringify(r.meta)}`)
  }
}

// ---- runners ------------------------------------------------------------------------------

const sim = await startSimulator({ port: 0, latencyFixedMs: 1, latencyPerSeriesMs: 0 })
const live: Runner = await createRunner({
  config: { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0 } } },
  logger: silentLogger(),
  defaultMetrics: false,
})
const down: Runner = await createRunner({
  config: { tsfm: { adapter: { base_url: `http://127.0.0.1:${await closedPort()}`, health_interval_s: 0 } } },
  logger: silentLogger(),
  defaultMetrics: false,
})

const hitBody = forecastBody(1)
expectAnswer(await live.forecast(hitBody), false, null)
expectAnswer(await live.forecast(hitBody), true, null)

// Five consecutive refused connections (after their retries) open the breaker.
for (let i = 0; down.state().breaker.state !== 'open' && i < 50; i++) await down.forecast(forecastBody(100 + i))
const downBody = forecastBody(1)
expectAnswer(await down.forecast(downBody), false, 'circuit_breaker_open')

/** 20 points: under `min_points_for_tsfm` (32). A new market per call, so nothing is cached. */
const shortBody = (i: number): Record<string, unknown> => ({ ...forecastBody(1, { points: 20 }), market_id: `short-${i}` })
const lowBody = forecastBody(2, { liquidity: 'low' })
expectAnswer(await live.forecast(lowBody), false, 'baseline_only_liquidity_bucket')
expectAnswer(await live.forecast(lowBody), true, 'baseline_only_liquidity_bucket')

// ---- per-call percentiles -----------------------------------------------------------------

const table: Record<string, Percentiles> = {}
table['fresh cache hit'] = await percentiles(() => live.forecast(hitBody), CALLS)
table['breaker-open fallback (never cached)'] = await percentiles(() => down.forecast(downBody), CALLS)
let shortN = 0
table['gate fallback too_few_points, computed'] = await percentiles(() => live.forecast(shortBody(shortN++)), CALLS)
table['gate fallback, cached (liquidity low)'] = await percentiles(() => live.forecast(lowBody), CALLS)
console.log(`runner.forecast(288-point body), ${CALLS} sequential calls each, µs per call:`)
console.table(table)
const mode = down.state().mode.mode
if (mode !== 'normal') console.log(`(the down runner's mode machine moved to ${mode}; its answers are fallbacks all the same)`)

// ---- mitata: the same four calls ----------------------------------------------------------

group('runner.forecast, 288 points (embedded)', () => {
  summary(() => {
    bench('fresh cache hit', async () => do_not_optimize(await live.forecast(hitBody)))
    bench('breaker-open fallback', async () => do_not_optimize(await down.forecast(downBody)))
    bench('gate fallback too_few_points, computed', async () => do_not_optimize(await live.forecast(shortBody(shortN++))))
    bench('gate fallback, cached', async () => do_not_optimize(await live.forecast(lowBody)))
  })
})

// ---- the pieces, old vs new ---------------------------------------------------------------

/** The previous `reanswer` (src/supervisor/answer.ts before the change): two object spreads. */
function reanswerSpread(
  base: ForecastResponse,
  patch: { cacheHit: boolean; cacheStale: boolean; reason?: FallbackReason | null },
  state: AnswerState,
  timings: Timings,
): ForecastResponse {
  const reason = patch.reason === undefined ? base.meta.fallback_reason : patch.reason
  const warnings = patch.reason === undefined || patch.reason === null ? base.meta.warnings : [...base.meta.warnings, `fallback_reason=${patch.reason}`]
  const meta: ForecastMeta = {
    ...base.meta,
    warnings,
    fallback_used: reason !== null,
    fallback_reason: reason,
    cache_hit: patch.cacheHit,
    cache_stale: patch.cacheStale,
    circuit_breaker_state: state.breaker,
    degradation_state: state.mode,
    timings_ms: timings,
  }
  return { ...base, meta }
}

const cached = await live.forecast(hitBody)
const state: AnswerState = { breaker: 'closed', mode: 'normal', conformal: NOT_LOADED }
if (JSON.stringify(reanswer(cached, { cacheHit: true, cacheStale: false }, state, cached.meta.timings_ms)) !==
  JSON.stringify(reanswerSpread(cached, { cacheHit: true, cacheStale: false }, state, cached.meta.timings_ms))) {
  throw new Error('reanswer and the spread version disagree')
}
group('reanswer (one per cache hit)', () => {
  summary(() => {
    let t = 0
    bench('old: object spreads', () => do_not_optimize(reanswerSpread(cached, { cacheHit: true, cacheStale: false }, state, { queue: 0, upstream: 0, total: t++ })))
    bench('new: fields written out', () => do_not_optimize(reanswer(cached, { cacheHit: true, cacheStale: false }, state, { queue: 0, upstream: 0, total: t++ })))
  })
})

const defaults = defaultsFromConfig(DEFAULTS)
const parsedBody = JSON.parse(JSON.stringify(hitBody)) as Record<string, unknown>
const yTs = parsedBody['y_ts'] as string[]
const noTsBody = { ...parsedBody, y_ts: null }
const tsOut = newParsedTimestamp()
/** The y_ts loop of `readYTs` as it was: the general parser, and `%` for every gap. */
function yTsLoopBefore(ts: readonly string[], stepMs: number): number {
  let prev = 0
  let bad = 0
  for (let i = 0; i < ts.length; i++) {
    if (!parseIsoTimestamp(ts[i] as string, tsOut)) bad++
    if (i > 0 && (tsOut.ms - prev) % stepMs !== 0) bad++
    prev = tsOut.ms
  }
  return bad
}
/** The same loop now (src/request/validate.ts `readYTs`): the same-day path, `%` only off-step. */
function yTsLoopNow(ts: readonly string[], stepMs: number): number {
  const memo = new DayMemo()
  let prev = 0
  let bad = 0
  for (let i = 0; i < ts.length; i++) {
    if (!parseSameDayTimestamp(ts[i] as string, tsOut, memo)) bad++
    const gap = tsOut.ms - prev
    if (i > 0 && gap !== stepMs && gap % stepMs !== 0) bad++
    prev = tsOut.ms
  }
  return bad
}
if (yTsLoopBefore(yTs, 300_000) !== 0 || yTsLoopNow(yTs, 300_000) !== 0) throw new Error('the y_ts loops reject the fixture')
group('y_ts validation, 288 timestamps', () => {
  summary(() => {
    bench('old: parseIsoTimestamp and % per point', () => do_not_optimize(yTsLoopBefore(yTs, 300_000)))
    bench('new: parseSameDayTimestamp, % only off-step', () => do_not_optimize(yTsLoopNow(yTs, 300_000)))
  })
})
group('request validation for scale (as it is now)', () => {
  bench('validateForecastRequest, 288 points + y_ts', () => do_not_optimize(validateForecastRequest(parsedBody, defaults)))
  bench('validateForecastRequest, 288 points, y_ts null', () => do_not_optimize(validateForecastRequest(noTsBody, defaults)))
})

/** The supervisor's message, as it is (src/supervisor/supervisor.ts `Msg`). */
class Msg {
  constructor(
    readonly kind: number,
    readonly waiter: object | null,
    readonly flight: object | null,
    readonly req: object | null,
    readonly outcome: object | null,
    readonly ticket: number,
    readonly band: object | null,
  ) {}
}
/**
 * The alternative: one mutable message refilled for each post. Not adopted: the mailbox queues
 * messages posted while one is being handled (a sink that submits again, a math result), so a
 * shared object would be overwritten while still queued; and the allocation it saves is ~14 ns
 * of a ~25 µs embedded hit.
 */
class MutableMsg {
  kind = 0
  waiter: object | null = null
  flight: object | null = null
  req: object | null = null
  outcome: object | null = null
  ticket = 0
  band: object | null = null
}
let handled = 0
const boxNew = new Mailbox<Msg>(1 << 16, (m) => {
  handled += m.ticket
})
const boxReuse = new Mailbox<MutableMsg>(1 << 16, (m) => {
  handled += m.ticket
})
const reused = new MutableMsg()
const waiterLike = {}
group('supervisor mailbox message (one per submission)', () => {
  summary(() => {
    bench('new Msg per message (as is)', () => boxNew.offer(new Msg(0, waiterLike, null, parsedBody, null, 1, null)))
    bench('one reused mutable message', () => {
      reused.kind = 0
      reused.waiter = waiterLike
      reused.req = parsedBody
      reused.ticket = 1
      boxReuse.offer(reused)
    })
  })
})

const results = await run()
do_not_optimize(handled)

const means: Record<string, number> = {}
for (const trial of results.benchmarks) {
  for (const r of trial.runs) if (r.stats !== undefined) means[`${trial.alias}`] = Math.round(r.stats.avg)
}
const file = saveResults('supervisor.json', 'answer', { calls: CALLS, per_call_us: table, mitata_avg_ns: means })
console.log(`saved ${file}`)

await live.close()
await down.close()
await sim.close()
