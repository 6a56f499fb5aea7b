/**
 * Conformal calibration through the embedding API (issue 11, must-show):
 *
 *   1. `runner.observe(batch)` per outcome — validation, the match to the band served
 *      (ServedBands), the online update (OnlineCalibrator) and the coverage window — target ≤ 5 µs.
 *      Each round first serves 10 000 markets (baseline answers: 8 points, so no upstream is
 *      involved and the bands are recorded as for any answer), then times their outcomes in
 *      batches of 1 000 (hrtime around each `observe` call; the median round is reported).
 *   2. The forecast hot path, old and new side by side: a fresh cache hit of `runner.forecast`
 *      (288 points + y_ts) with no conformal state (the path as it was: `conformal_last_step`
 *      null), with a state file of 8 segments loaded, and with online calibration on.
 *
 *   node dist/perf/conformal/embedded.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeState } from '../../src/conformal/state-file.js'
import type { ConfigInput } from '../../src/config/types.js'
import { silentLogger } from '../../src/log.js'
import { createRunner, type Runner } from '../../src/runner.js'
import { startSimulator } from '../../src/sim/index.js'
import { forecastBody } from '../http/forecast-bodies.js'
import { saveConformalResults } from './results.js'

const MARKETS = 10_000
const BATCH = 1_000
const ROUNDS = 7

const dir = mkdtempSync(join(tmpdir(), 'tsfm-conformal-bench-'))
const adj = (shift: number, scale: number) => ({ target_coverage: 0.8, quantile_level: 0.802, center_shift: shift, width_scale: scale, sample_size: 500 })
const segments = new Map(['category=crypto', 'category=sports', 'category=politics', 'category=economy', 'liquidity_bucket=high', 'liquidity_bucket=low', 'tte_bucket=short', 'tte_bucket=long'].map((k, i) => [k, adj(0.001 * i, 1 + 0.05 * i)]))
const statePath = join(dir, 'state.json')
writeFileSync(statePath, encodeState({ default: adj(0, 1.1), segments, segmentFields: ['category', 'liquidity_bucket', 'tte_bucket'], metadata: {} }, new Date().toISOString()))

const sim = await startSimulator({ port: 0, latencyFixedMs: 1, latencyPerSeriesMs: 0 })
const config = (conformal: Record<string, unknown>): ConfigInput => ({ tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } }, conformal } })
const open = (conformal: Record<string, unknown>): Promise<Runner> => createRunner({ config: config(conformal), logger: silentLogger(), defaultMetrics: false, checkModels: false })
const none = await open({ state_path: null })
const file = await open({ state_path: statePath, watch_interval_ms: 0 })
// Online, learning in memory (no state_path: the periodic write is not what is measured).
const online = await open({ state_path: null, online: { enabled: true, max_pending: 50_000 } })

// ---- 1. observe per outcome -------------------------------------------------------------------

const STEP_S = 300
const HORIZON = 12
/** Resolved a minute ago: as_of_ts + 12 × 5 min. */
const asOf = Math.floor(Date.now() / 1000) - HORIZON * STEP_S - 60
const served = (round: number, i: number) => ({ market_id: `obs-${round}-${i}`, as_of_ts: asOf, y: [0.41, 0.42, 0.4, 0.43, 0.44, 0.45, 0.46, 0.45], category: i % 3 === 0 ? 'crypto' : 'sports' })
let seed = 7
const uniform = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296)

const perOutcome: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const batches: unknown[][] = []
  for (let b = 0; b < MARKETS / BATCH; b++) {
    const outcomes: unknown[] = []
    for (let k = 0; k < BATCH; k++) outcomes.push({ market_id: `obs-${round}-${b * BATCH + k}`, as_of_ts: asOf, realized: 0.3 + 0.3 * uniform(), category: 'crypto' })
    batches.push(outcomes)
  }
  await Promise.all(Array.from({ length: MARKETS }, (_, i) => online.forecast(served(round, i))))
  let ns = 0n
  let matched = 0
  for (const outcomes of batches) {
    const t0 = process.hrtime.bigint()
    const r = online.observe(outcomes)
    ns += process.hrtime.bigint() - t0
    matched += r.matched
  }
  if (matched !== MARKETS) throw new Error(`round ${round}: ${matched} of ${MARKETS} outcomes matched`)
  perOutcome.push(Number(ns) / 1000 / MARKETS)
}
const sorted = [...perOutcome].sort((a, b) => a - b)
const medianUs = sorted[sorted.length >> 1] as number
console.log(`runner.observe: ${perOutcome.map((x) => x.toFixed(2)).join(' / ')} µs per outcome over ${ROUNDS} rounds of ${MARKETS} (batches of ${BATCH}); median ${medianUs.toFixed(2)} µs (target ≤ 5 µs)`)

// ---- 2. the forecast hot path -----------------------------------------------------------------

const hitBody = { ...forecastBody(1), category: 'politics', liquidity_bucket: 'high' }
for (const r of [none, file, online]) {
  await r.forecast(hitBody)
  const hit = await r.forecast(hitBody)
  if (!hit.meta.cache_hit) throw new Error('expected a cache hit')
}
if ((await none.forecast(hitBody)).conformal_last_step !== null) throw new Error('expected no conformal step without a state file')
if ((await file.forecast(hitBody)).meta.conformal_segment_key !== 'category=politics') throw new Error('expected the category segment')

group('runner.forecast fresh cache hit, 288 points (embedded)', () => {
  summary(() => {
    bench('no conformal state (the path before conformal)', async () => do_not_optimize(await none.forecast(hitBody)))
    bench('state file, 8 segments', async () => do_not_optimize(await file.forecast(hitBody)))
    bench('state file + online calibration', async () => do_not_optimize(await online.forecast(hitBody)))
  })
})

const { benchmarks } = await run()
console.log(`saved to ${saveConformalResults(benchmarks, { section: 'embedded', observe_us_per_outcome: { rounds: perOutcome, median: medianUs, target: 5 } }, 'conformal-embedded.json')}`)
await Promise.all([none.close(), file.close(), online.close()])
await sim.close()
rmSync(dir, { recursive: true, force: true })
