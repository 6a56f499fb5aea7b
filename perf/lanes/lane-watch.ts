import type { ModeKind } from '../../src/supervisor/mode.js'
import type { RunnerState } from '../../src/supervisor/state.js'
import { daemonState } from '../load/control.js'

/**
 * Samples `GET /tsfm/state` every `intervalMs` while a lanes benchmark runs: per lane its breaker
 * state and the I/O thread's last report (limit, in flight, queued, predicted wait, shed), and the
 * mode. Times are ms since `start()` (this process's clock). The lane figures are the I/O
 * thread's report, refreshed at most every 250 ms and only while outcomes flow (engine.ts
 * LANE_REPORT_MS), so a sample can be up to ~250 ms old; breaker and mode are current.
 */

export interface LaneSample {
  readonly breaker: string | null
  readonly limit: number | null
  readonly inflight: number | null
  readonly queued: number | null
  readonly predicted_wait_ms: number | null
  readonly shed: number | null
  /** Series the lane has sent upstream since start (cumulative). */
  readonly series: number | null
  /** The lane's cost model: ms per request and per series. */
  readonly cost_fixed_ms: number | null
  readonly cost_per_series_ms: number | null
}

export interface WatchSample {
  /** ms since `start()`. */
  readonly t: number
  readonly mode: ModeKind
  readonly lanes: Readonly<Record<string, LaneSample>>
}

export class LaneWatch {
  readonly #url: string
  readonly #intervalMs: number
  readonly samples: WatchSample[] = []
  #timer: NodeJS.Timeout | null = null
  #busy = false
  #t0 = 0
  /** Polls that failed (a missed sample is not a result, but it is reported). */
  misses = 0

  constructor(daemonUrl: string, intervalMs: number) {
    this.#url = daemonUrl
    this.#intervalMs = intervalMs
  }

  /** ms since `start()`. */
  now(): number {
    return performance.now() - this.#t0
  }

  start(): this {
    this.#t0 = performance.now()
    void this.poll()
    this.#timer = setInterval(() => void this.poll(), this.#intervalMs)
    return this
  }

  async poll(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      const s = await daemonState(this.#url)
      this.samples.push({ t: this.now(), mode: s.mode.mode, lanes: laneSamples(s) })
    } catch {
      this.misses++
    } finally {
      this.#busy = false
    }
  }

  /** Stops after one last sample. */
  async stop(): Promise<WatchSample[]> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    while (this.#busy) await new Promise((r) => setTimeout(r, 5))
    await this.poll()
    return this.samples
  }
}

export function laneSamples(s: RunnerState): Record<string, LaneSample> {
  const out: Record<string, LaneSample> = {}
  for (const [name, lane] of Object.entries(s.lanes)) {
    const io = lane.io
    out[name] = {
      breaker: lane.breaker?.state ?? null,
      limit: io?.limit ?? null,
      inflight: io?.inflight ?? null,
      queued: io?.queued ?? null,
      predicted_wait_ms: io?.predicted_wait_ms ?? null,
      shed: io?.shed ?? null,
      series: io?.series ?? null,
      cost_fixed_ms: io?.cost_fixed_ms ?? null,
      cost_per_series_ms: io?.cost_per_series_ms ?? null,
    }
  }
  return out
}

/** Every distinct value of `pick` over the samples, with how many samples had it. */
export function tally(samples: readonly WatchSample[], pick: (s: WatchSample) => string | null): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of samples) {
    const v = pick(s) ?? 'none'
    out[v] = (out[v] ?? 0) + 1
  }
  return out
}

/** `closed ×60` style. */
export function formatTally(t: Readonly<Record<string, number>>): string {
  return Object.entries(t)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ')
}

/** Samples where `pick` is not `want` (e.g. the breaker not closed). */
export function deviations(samples: readonly WatchSample[], pick: (s: WatchSample) => string | null, want: string): WatchSample[] {
  return samples.filter((s) => pick(s) !== want)
}
