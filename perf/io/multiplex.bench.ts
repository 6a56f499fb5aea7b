/**
 * What multiplexing buys against a tollama-like upstream, and what the thread boundary costs.
 *
 * 1. Throughput: the simulator in serial mode (one request holds the model at a time) at
 *    42 ms + 0.9 ms per series — tollama 0.1.0's measured costs (tollama-api.md). 200
 *    single-series jobs, submitted in one turn (a top-N cycle), go through the real I/O thread
 *    once as 200 individual requests (`batch_window_ms` 0) and once multiplexed (window 2 ms, at
 *    most 32 series a request). Prints series/s of both and the ratio; the ratio must be ≥ 10×.
 *
 * 2. The comlink hop per job: a job whose deadline leaves no room for an attempt is answered by
 *    the actor at once (`deadline_exceeded`, no HTTP), so its round trip is the pure cost of
 *    host → thread → host: copy + transfer, one comlink message, the actor's bookkeeping, one
 *    port message back. Measured through the thread and, for reference, with the same engine
 *    in-process; one job per turn and 32 jobs per turn.
 *
 * Run: node dist/perf/io/multiplex.bench.js
 */
import { bench, group, run, summary } from 'mitata'
import { sharedNow, systemClock } from '../../src/clock/clock.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import type { AdapterConfig } from '../../src/config/types.js'
import { IoEngine } from '../../src/io/thread/engine.js'
import { UpstreamActor } from '../../src/io/host/io-host.js'
import { laneSettings, type UpstreamJob, type UpstreamOutcome } from '../../src/io/types.js'
import { startSimulator } from '../../src/sim/index.js'
import { saveIoResults } from './results.js'

const JOBS = 200
const POINTS = 288
const REQUIRED_RATIO = 10

let ticket = 0

function job(deadline: number, attemptTimeoutMs: number): UpstreamJob {
  const t = ++ticket
  const y = new Float64Array(POINTS)
  for (let i = 0; i < POINTS; i++) y[i] = 0.5 + 0.3 * Math.sin((i + t) / 17)
  return {
    ticket: t,
    deadline,
    attempt_timeout_ms: attemptTimeoutMs,
    max_retries: 0,
    high: false,
    request_id: null,
    model: 'chronos2',
    horizon: 12,
    quantiles: [0.1, 0.5, 0.9],
    freq: '5m',
    step_ms: 300_000,
    as_of_ms: Date.UTC(2026, 1, 20),
    params: {},
    series_id: `market-${t}`,
    y,
    y_ts: null,
    space: 'logit',
    eps: 1e-6,
    x_past: {},
    x_future: {},
  }
}

/** Collects outcomes; `next(n)` resolves when n more have arrived. */
class Collector {
  ok = 0
  failed = 0
  #want = 0
  #resolve: () => void = () => undefined
  readonly sink = (o: UpstreamOutcome): void => {
    if (o.ok) this.ok++
    else this.failed++
    if (--this.#want === 0) this.#resolve()
  }
  next(n: number): Promise<void> {
    this.#want = n
    return new Promise((resolve) => (this.#resolve = resolve))
  }
}

// ---- 1. throughput: individual vs multiplexed ----------------------------------------------

const sim = await startSimulator({ port: 0, serial: true, latencyFixedMs: 42, latencyPerSeriesMs: 0.9 })

async function cycle(windowMs: number): Promise<{ seriesPerS: number; ms: number; requests: number; ok: number }> {
  const collector = new Collector()
  const adapter: AdapterConfig = { ...DEFAULTS.adapter, base_url: sim.url, batch_window_ms: windowMs, batch_max_series: 32, health_interval_s: 0 }
  const actor = await UpstreamActor.start({ adapter, sink: collector.sink })
  // Warm the connection and the thread's code paths; not timed.
  let done = collector.next(1)
  actor.submit(job(sharedNow() + 60_000, 30_000))
  await done
  collector.ok = 0
  sim.resetStats()
  const start = sharedNow()
  done = collector.next(JOBS)
  for (let i = 0; i < JOBS; i++) actor.submit(job(start + 60_000, 30_000))
  await done
  const ms = sharedNow() - start
  const requests = sim.stats().forecastRequests
  const ok = collector.ok
  await actor.close()
  return { seriesPerS: (ok / ms) * 1000, ms, requests, ok }
}

const individual = await cycle(0)
const multiplexed = await cycle(2)
await sim.close()
const ratio = multiplexed.seriesPerS / individual.seriesPerS

console.log(`\n${JOBS} single-series jobs, simulator serial at 42 ms + 0.9 ms/series`)
console.log(`individual  : ${individual.requests} requests, ${individual.ms.toFixed(0)} ms, ${individual.seriesPerS.toFixed(1)} series/s (${individual.ok} ok)`)
console.log(`multiplexed : ${multiplexed.requests} requests, ${multiplexed.ms.toFixed(0)} ms, ${multiplexed.seriesPerS.toFixed(1)} series/s (${multiplexed.ok} ok)`)
console.log(`ratio       : ${ratio.toFixed(1)}× (required ≥ ${REQUIRED_RATIO}×) ${ratio >= REQUIRED_RATIO ? 'PASS' : 'FAIL'}\n`)

// ---- 2. the thread hop per job -------------------------------------------------------------

/** Deadline inside the post-processing budget: no attempt fits, the actor answers at once. */
const instant = (): UpstreamJob => job(sharedNow() + DEFAULTS.adapter.postprocess_budget_ms - 1, 1200)
const hopAdapter: AdapterConfig = { ...DEFAULTS.adapter, base_url: 'http://127.0.0.1:9', health_interval_s: 0 }

const threadCollector = new Collector()
const actor = await UpstreamActor.start({ adapter: hopAdapter, sink: threadCollector.sink })

const localCollector = new Collector()
const engine = new IoEngine({
  adapter: hopAdapter,
  lanes: laneSettings(DEFAULTS.perf),
  clock: systemClock,
  onOutcomes: (outcomes) => {
    for (const o of outcomes) localCollector.sink(o)
  },
})

async function throughThread(n: number): Promise<void> {
  const done = threadCollector.next(n)
  for (let i = 0; i < n; i++) actor.submit(instant())
  await done
}

async function inProcess(n: number): Promise<void> {
  const done = localCollector.next(n)
  const jobs: UpstreamJob[] = []
  for (let i = 0; i < n; i++) jobs.push(instant())
  engine.submit(jobs)
  await done
}

for (const n of [1, 32]) {
  group(`${n} job${n === 1 ? '' : 's'} per turn, answered without HTTP`, () => {
    summary(() => {
      bench(`in-process engine ×${n}`, () => inProcess(n)).baseline(true)
      bench(`through the I/O thread ×${n}`, () => throughThread(n))
    })
  })
}

const { benchmarks } = await run()
/** Median ns of a benchmark: the machine is shared and noisy, the median resists that best. */
const p50 = (name: string): number => {
  for (const b of benchmarks) for (const r of b.runs) if (r.name === name && r.stats) return r.stats.p50
  return Number.NaN
}
const roundTrip = (n: number): { thread: number; local: number; hop: number } => {
  const thread = p50(`through the I/O thread ×${n}`) / 1000
  const local = p50(`in-process engine ×${n}`) / 1000
  return { thread, local, hop: (thread - local) / n }
}
const one = roundTrip(1)
const batch = roundTrip(32)
console.log('\nround trip (median) | through thread | in-process | hop per job')
console.log(`1 job per turn      | ${one.thread.toFixed(1).padStart(11)} µs | ${one.local.toFixed(1).padStart(7)} µs | ${one.hop.toFixed(1)} µs`)
console.log(`32 jobs per turn    | ${batch.thread.toFixed(1).padStart(11)} µs | ${batch.local.toFixed(1).padStart(7)} µs | ${batch.hop.toFixed(2)} µs`)

await actor.close()
await engine.close()

const file = saveIoResults('multiplex', {
  jobs: JOBS,
  individual: { requests: individual.requests, ms: Math.round(individual.ms), series_per_s: +individual.seriesPerS.toFixed(1) },
  multiplexed: { requests: multiplexed.requests, ms: Math.round(multiplexed.ms), series_per_s: +multiplexed.seriesPerS.toFixed(1) },
  ratio: +ratio.toFixed(2),
  hop_us_per_job: { one_per_turn: +one.hop.toFixed(1), thirty_two_per_turn: +batch.hop.toFixed(2) },
  round_trip_us_p50: { thread_1: +one.thread.toFixed(1), local_1: +one.local.toFixed(1), thread_32: +batch.thread.toFixed(1), local_32: +batch.local.toFixed(1) },
})
console.log(`saved to ${file}`)
if (ratio < REQUIRED_RATIO) process.exitCode = 1
