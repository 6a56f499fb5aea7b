/**
 * Two models at once (issue "upstream lanes", must-show list): one simulator with models `a` and
 * `b` (`--models a,b`), each served one request at a time by its own runner (`--serial` is per
 * model, 25 ms + 1.2 ms per series), and 32 closed-loop clients per model (distinct markets,
 * `"model": {"model_name": "a"}` or `"b"` in every request; the daemon's `adapter.model` is `a`).
 *
 * Phase 1, both healthy: each lane must reach ≥ 0.8 × its own CAP = 32 / T32, T32 measured for
 * that model alone (`measureShape(sim, [32], 7, model)`), with no fallback.
 *
 * Phase 2, `b` failing while `a` runs: the simulator's faults (rates and schedule) apply to every
 * model alike, so they cannot fail one model; a model name it does not have is a caller error
 * (no breaker, no mode event), and the daemon has one upstream URL, so a second simulator cannot
 * serve `b` alone. What can fail one model through this simulator is its runner: another client
 * of the same tollama ("the hog": HOG direct single-series requests for `b`, in a closed loop,
 * straight to the simulator) keeps ~1.7 s of work queued in `b`'s FIFO, so every request the
 * daemon sends for `b` waits past its 1.2 s attempt timeout (`upstream_timeout`), exactly as
 * behind a stuck or overloaded model. `a`'s runner is untouched. The hog starts 1 s before the
 * phase and runs to its end; both models' 32 clients run throughout, `a`'s in a closed loop,
 * `b`'s paced at the rate `b`'s clients had while healthy (a caller does not send faster because
 * its answers now come from the baseline): in a closed loop, `b`'s instant fallbacks came back at
 * ~9 800 req/s, and the load generator's and the daemon's CPU for them on this 2-core machine,
 * not anything of `b`'s lane, took `a` from 0.86 to 0.80 × CAP_a (measured).
 * Criteria of phase 2: `b` really failed (its breaker opened: `/tsfm/state` every 250 ms); `a`'s
 * clients got every answer from the upstream (0 fallbacks, 0 errors), at ≥ 0.8 × CAP_a; `a`'s
 * breaker closed and the mode normal in every sample.
 *
 * Phase 2 starts only once the daemon is older than `degradation.fast_trip_window_s` (60 s): the
 * mode machine judges a rule only over a complete window since its last transition (mode.ts
 * `judge`), so a younger daemon cannot change mode at all and "the mode stays normal" would pass
 * for nothing. Between the phases the daemon idles (no load) until then. The 180 s and 300 s rules
 * still cannot judge in a run this short; the 60 s fast trip (≥ 80 % failures) can.
 *
 * Run: make bench-lanes-two-models
 *      (node dist/perf/lanes/two-models.js [--phase-ms N] [--failing-ms N] [--clients N] [--hog N])
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { DEFAULTS } from '../../src/config/defaults.js'
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { round } from '../load/percentiles.js'
import { ProcessGroup } from '../load/processes.js'
import { compact, formatCriteria, formatRuns, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import type { LoadReport } from '../load/tally.js'
import { runPrefix } from '../profiles/normal-load.js'
import { deviations, formatTally, LaneWatch, tally, type WatchSample } from './lane-watch.js'
import { batchBody, measureShape, TOLLAMA_SHAPE } from './upstream-shape.js'

export const TWO_MODELS = {
  models: ['a', 'b'],
  clients: 32,
  phaseMs: 10_000,
  warmMs: 1500,
  hog: 64,
  hogLeadMs: 1000,
  /** Phase 2 starts this long after the daemon listened: `fast_trip_window_s` (60 s) + 2 s. */
  failingAfterMs: DEFAULTS.degradation.fast_trip_window_s * 1000 + 2000,
  failingMs: 20_000,
  requiredCapShare: 0.8,
  sampleMs: 250,
} as const

const [A, B] = TWO_MODELS.models

export interface ModelRun {
  readonly model: string
  readonly report: LoadReport
  /** Forecasts from the upstream its clients received, per second. */
  readonly upstreamPerS: number
  /** Upstream requests the daemon sent for this model (the simulator's count, less the hog's). */
  readonly requests: number
  readonly meanBatch: number
}

export interface TwoModelsPhase {
  readonly name: string
  readonly runs: readonly ModelRun[]
  readonly samples: readonly WatchSample[]
  readonly hogRequests: number
  /** The daemon's age (since it listened) when the phase started, ms. */
  readonly daemonAgeMs: number
}

export interface TwoModelsResult {
  readonly t32: Readonly<Record<string, number>>
  readonly cap: Readonly<Record<string, number>>
  readonly phases: readonly TwoModelsPhase[]
  readonly criteria: readonly Criterion[]
}

export interface TwoModelsOptions {
  readonly clients: number
  readonly phaseMs: number
  readonly failingMs: number
  readonly hog: number
}

function mixFor(model: string, label: string): RequestMix {
  return new RequestMix({ prefix: runPrefix(`lanes-two-${label}-${model}`), uniqueKeys: Number.POSITIVE_INFINITY, extra: { model: { model_name: model } } })
}

/** Keeps `concurrency` direct single-series requests for `model` at the simulator until stopped. */
class Hog {
  readonly #pool: Pool
  readonly #body: string
  #stopped = false
  #running: Promise<void>[] = []
  /** Requests sent (the simulator counts a request when it arrives, not when it is answered). */
  sent = 0
  requests = 0
  failures = 0

  constructor(simUrl: string, model: string, concurrency: number) {
    this.#pool = new Pool(simUrl, { connections: concurrency, headersTimeout: 60_000, bodyTimeout: 60_000 })
    this.#body = batchBody(1, model, 7)
    for (let i = 0; i < concurrency; i++) this.#running.push(this.#loop())
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.sent++
        const res = await this.#pool.request({ path: '/api/forecast', method: 'POST', headers: { 'content-type': 'application/json' }, body: this.#body })
        await res.body.text()
        if (res.statusCode === 200) this.requests++
        else this.failures++
      } catch {
        this.failures++
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    // The requests queued at the simulator finish on their own; do not wait out ~1.7 s of queue.
    await this.#pool.destroy()
    await Promise.allSettled(this.#running)
  }
}

async function phase(name: string, loaders: Readonly<Record<string, Loader>>, simUrl: string, daemonUrl: string, clients: number, durationMs: number, hog: Hog | null, bornAt: number, pace?: Readonly<Record<string, number>>): Promise<TwoModelsPhase> {
  const daemonAgeMs = performance.now() - bornAt
  const watch = new LaneWatch(daemonUrl, TWO_MODELS.sampleMs).start()
  const hog0 = hog?.requests ?? 0
  const sent0 = hog?.sent ?? 0
  const s0 = await simStats(simUrl)
  const reports = await Promise.all(TWO_MODELS.models.map((m) => (loaders[m] as Loader).run({ mix: mixFor(m, name), concurrency: clients, durationMs, ...(pace?.[m] === undefined ? {} : { ratePerS: pace[m] }) })))
  const sent1 = hog?.sent ?? 0
  const s1 = await simStats(simUrl)
  const samples = await watch.stop()
  const runs = TWO_MODELS.models.map((model, i) => {
    const before = s0.byModel[model]
    const after = s1.byModel[model]
    // The hog's requests are b's too: count only what the daemon sent (the hog's: 1 series each).
    const hogged = model === B ? sent1 - sent0 : 0
    const requests = Math.max(0, (after?.requests ?? 0) - (before?.requests ?? 0) - hogged)
    const series = Math.max(0, (after?.series ?? 0) - (before?.series ?? 0) - hogged)
    const report = reports[i] as LoadReport
    // Answers from the upstream the model's clients received, per second of their run.
    return { model, report, upstreamPerS: (report.success / report.wall_ms) * 1000, requests, meanBatch: requests === 0 ? 0 : series / requests }
  })
  return { name, runs, samples, hogRequests: hog === null ? 0 : hog.requests - hog0, daemonAgeMs }
}

export async function runTwoModels(opts: TwoModelsOptions): Promise<TwoModelsResult> {
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator([...TOLLAMA_SHAPE, '--models', TWO_MODELS.models.join(',')])
    const daemon = await group.daemon(benchConfig(sim.url, { adapter: { model: A } }), 'daemon (stock, model a)')
    const bornAt = performance.now()
    const loaders: Record<string, Loader> = Object.fromEntries(TWO_MODELS.models.map((m) => [m, new Loader(daemon.url, opts.clients)]))
    let hog: Hog | null = null
    try {
      // Warm-up, never counted: both lanes' connections, cost models and the daemon's code paths.
      await Promise.all(TWO_MODELS.models.map((m) => (loaders[m] as Loader).run({ mix: mixFor(m, 'warm'), concurrency: opts.clients, durationMs: TWO_MODELS.warmMs })))
      const t32: Record<string, number> = {}
      const cap: Record<string, number> = {}
      for (const m of TWO_MODELS.models) {
        t32[m] = (await measureShape(sim.url, [32], 7, m)).t32
        cap[m] = (32 / (t32[m] as number)) * 1000
      }
      await simReset(sim.url)
      const healthy = await phase('healthy', loaders, sim.url, daemon.url, opts.clients, opts.phaseMs, null, bornAt)
      const wait = bornAt + TWO_MODELS.failingAfterMs - TWO_MODELS.hogLeadMs - performance.now()
      if (wait > 0) await sleep(wait)
      hog = new Hog(sim.url, B, opts.hog)
      await sleep(TWO_MODELS.hogLeadMs)
      // b's callers keep the rate they had while healthy (see the file comment).
      const bRate = (healthy.runs.find((r) => r.model === B)?.upstreamPerS ?? 0) || (cap[B] as number)
      const failing = await phase('b-failing', loaders, sim.url, daemon.url, opts.clients, opts.failingMs, hog, bornAt, { [B]: bRate })
      const phases = [healthy, failing]
      return { t32, cap, phases, criteria: judge(cap, healthy, failing) }
    } finally {
      await hog?.stop()
      await Promise.all(Object.values(loaders).map((l) => l.close()))
    }
  } finally {
    await group.stopAll()
  }
}

function runOf(p: TwoModelsPhase, model: string): ModelRun {
  return p.runs.find((r) => r.model === model) as ModelRun
}

function notUpstream(r: LoadReport): number {
  return r.fallbacks + r.errors + r.invalid
}

function reasons(r: LoadReport): string {
  const parts = Object.entries(r.fallbacks_by_reason).map(([k, v]) => `${k} ${v}`)
  if (r.errors > 0) parts.push(`errors ${r.errors}`)
  if (r.invalid > 0) parts.push(`invalid ${r.invalid}`)
  return parts.length === 0 ? '0' : `${notUpstream(r)} (${parts.join(', ')})`
}

function judge(cap: Readonly<Record<string, number>>, healthy: TwoModelsPhase, failing: TwoModelsPhase): Criterion[] {
  const share = TWO_MODELS.requiredCapShare
  const rows: Criterion[] = []
  for (const m of TWO_MODELS.models) {
    const r = runOf(healthy, m)
    const c = cap[m] as number
    rows.push(
      criterion('target', `both healthy: lane ${m}, forecasts/s from the upstream`, `≥ ${share} × CAP_${m} = ${(share * c).toFixed(0)}/s`, `${r.upstreamPerS.toFixed(0)}/s (${(r.upstreamPerS / c).toFixed(2)} × CAP_${m})`, r.upstreamPerS >= share * c),
      criterion('target', `both healthy: lane ${m}, fallbacks, errors, invalid`, '0', reasons(r.report), notUpstream(r.report) === 0),
    )
  }
  const a = runOf(failing, A)
  const capA = cap[A] as number
  const bBreaker = tally(failing.samples, (s) => s.lanes[B]?.breaker ?? null)
  const aBreakerOff = deviations(failing.samples, (s) => s.lanes[A]?.breaker ?? null, 'closed')
  const modeOff = deviations(failing.samples, (s) => s.mode, 'normal')
  rows.push(
    criterion('target', `${B} failing: ${B} really failed (its breaker, every ${TWO_MODELS.sampleMs} ms)`, 'open in some sample', formatTally(bBreaker), (bBreaker.open ?? 0) > 0),
    criterion('target', `${B} failing: lane ${A}, answers not from the upstream`, '0', reasons(a.report), notUpstream(a.report) === 0 && a.report.success > 0),
    criterion('target', `${B} failing: lane ${A}, forecasts/s from the upstream`, `≥ ${share} × CAP_${A} = ${(share * capA).toFixed(0)}/s`, `${a.upstreamPerS.toFixed(0)}/s (${(a.upstreamPerS / capA).toFixed(2)} × CAP_${A})`, a.upstreamPerS >= share * capA),
    criterion('target', `${B} failing: breaker of lane ${A}`, `closed in all ${failing.samples.length}`, formatTally(tally(failing.samples, (s) => s.lanes[A]?.breaker ?? null)), failing.samples.length > 0 && aBreakerOff.length === 0),
    criterion('target', `${B} failing: mode`, `normal in all ${failing.samples.length}`, formatTally(tally(failing.samples, (s) => s.mode)), failing.samples.length > 0 && modeOff.length === 0),
  )
  return rows
}

/** The mode and both breakers, one letter each, every sample: `n` normal, `d` degraded, `b` baseline-only; `c` closed, `o` open, `h` half-open. */
function timeline(samples: readonly WatchSample[]): string {
  const letter = (v: string | null | undefined): string => (v == null ? '-' : v === 'half-open' ? 'h' : v === 'baseline-only' ? 'b' : v.charAt(0))
  return samples.map((s) => `${letter(s.mode)}${letter(s.lanes[A]?.breaker)}${letter(s.lanes[B]?.breaker)}`).join(' ')
}

export function describeTwoModels(r: TwoModelsResult, opts: TwoModelsOptions): string {
  const lines = [
    `== two models: ${opts.clients} closed-loop clients per model, one simulator (${TOLLAMA_SHAPE.join(' ')} --models ${TWO_MODELS.models.join(',')}); both healthy ${ms(opts.phaseMs)}, idle until the daemon is ${ms(TWO_MODELS.failingAfterMs)} old, then ${B} failing ${ms(opts.failingMs)}`,
    `upstream alone: ${TWO_MODELS.models.map((m) => `T32(${m}) ${ms(r.t32[m] as number)}, CAP_${m} ${(r.cap[m] as number).toFixed(0)}/s`).join('; ')}`,
  ]
  for (const p of r.phases) {
    lines.push(`-- ${p.name}, from daemon age ${ms(p.daemonAgeMs)}${p.hogRequests > 0 ? ` (the hog's ${opts.hog} clients got ${p.hogRequests} answers for ${B})` : ''}`)
    lines.push(formatRuns(p.runs.map((x) => ({ label: `model ${x.model}`, report: x.report }))))
    for (const x of p.runs) lines.push(`model ${x.model}: ${x.upstreamPerS.toFixed(0)} forecasts/s from the upstream (${(x.upstreamPerS / (r.cap[x.model] as number)).toFixed(2)} × CAP_${x.model}), ${x.requests} daemon requests, mean ${x.meanBatch.toFixed(1)} series`)
    lines.push(`mode / breaker ${A} / breaker ${B} every ${TWO_MODELS.sampleMs} ms: ${timeline(p.samples)}`)
    const transitions = modeChanges(p.samples)
    if (transitions !== '') lines.push(`mode changes: ${transitions}`)
    const before = untilModeChange(p.samples, A)
    if (before !== null) lines.push(`lane ${A} until the mode left normal (${ms(before.ms)}): ${before.perS.toFixed(0)} series/s sent upstream (${(before.perS / (r.cap[A] as number)).toFixed(2)} × CAP_${A}; the lane's own count, reported every 250 ms)`)
  }
  lines.push(formatCriteria(r.criteria))
  return lines.join('\n')
}

/** Series/s lane `lane` sent from the first sample to the last one still in normal mode (null if the mode never changed). */
function untilModeChange(samples: readonly WatchSample[], lane: string): { ms: number; perS: number } | null {
  const i = samples.findIndex((s) => s.mode !== 'normal')
  if (i <= 1) return null
  const first = samples[0] as WatchSample
  const last = samples[i - 1] as WatchSample
  const a = first.lanes[lane]?.series
  const b = last.lanes[lane]?.series
  if (a == null || b == null || last.t <= first.t) return null
  return { ms: last.t - first.t, perS: ((b - a) / (last.t - first.t)) * 1000 }
}

function modeChanges(samples: readonly WatchSample[]): string {
  const out: string[] = []
  let prev: string | null = null
  for (const s of samples) {
    if (s.mode !== prev) out.push(`${s.mode} at ${ms(s.t)}`)
    prev = s.mode
  }
  return out.length <= 1 ? '' : out.join(' → ')
}

export function twoModelsJson(r: TwoModelsResult, opts: TwoModelsOptions): Record<string, unknown> {
  return {
    options: { ...TWO_MODELS, ...opts },
    t32_ms: Object.fromEntries(Object.entries(r.t32).map(([k, v]) => [k, round(v)])),
    cap_per_s: Object.fromEntries(Object.entries(r.cap).map(([k, v]) => [k, round(v)])),
    phases: r.phases.map((p) => ({
      name: p.name,
      hog_requests: p.hogRequests,
      daemon_age_ms: round(p.daemonAgeMs),
      runs: p.runs.map((x) => ({ model: x.model, upstream_per_s: round(x.upstreamPerS), over_cap: round(x.upstreamPerS / (r.cap[x.model] as number)), requests: x.requests, mean_batch: round(x.meanBatch), report: compact(x.report) })),
      samples: p.samples,
    })),
    criteria: r.criteria,
  }
}

runIfEntry(import.meta.url, 'lanes-two-models', async (argv) => {
  const opts: TwoModelsOptions = {
    clients: intFlag(argv, 'clients', TWO_MODELS.clients),
    phaseMs: intFlag(argv, 'phase-ms', TWO_MODELS.phaseMs),
    failingMs: intFlag(argv, 'failing-ms', TWO_MODELS.failingMs),
    hog: intFlag(argv, 'hog', TWO_MODELS.hog),
  }
  const res = await runTwoModels(opts)
  console.log(describeTwoModels(res, opts))
  console.log(`saved to ${saveResult('lanes-two-models', twoModelsJson(res, opts))}`)
  return allPass(res.criteria) ? 0 : 1
})
