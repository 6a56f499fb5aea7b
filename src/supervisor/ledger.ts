import type { Clock } from '../clock/clock.js'
import type { Metrics } from '../metrics/metrics.js'
import type { FallbackReason } from '../reasons.js'
import type { ForecastResponse } from '../response.js'
import { ReasonWindow } from './reason-window.js'

/**
 * The one place where a request is counted (SPEC §8): each answer delivered to a caller, once,
 * under the reason that caller saw; each request withdrawn by its caller; each result that came
 * back after its request had been answered another way.
 *
 * Counting at delivery, not where a fallback is decided, is what makes the numbers true: a
 * fallback nobody receives (a flight whose waiters all left) is not counted; a request whose
 * deadline passed while its upstream call later timed out counts once (`deadline_exceeded`, what
 * the client saw) instead of twice; a stale-if-error answer and a cached gate answer are counted
 * like every other fallback. So `sum(tsfm_fallback_total)` equals
 * `tsfm_requests_total{runtime="baseline"}` by construction: the `runtime` label of the request
 * counters and of `tsfm_request_latency_ms` names the path that answered — `baseline` for every
 * fallback answer, including stale-if-error, whose values an earlier upstream call computed
 * (its `meta.runtime` says `tollama`).
 */
export class Ledger {
  readonly #metrics: Metrics
  readonly #clock: Clock
  readonly #reasons = new ReasonWindow(300_000)
  #answered = 0
  #withdrawn = 0
  #late = 0

  constructor(metrics: Metrics, clock: Clock) {
    this.#metrics = metrics
    this.#clock = clock
  }

  /** An answer handed to its caller. */
  delivered(response: ForecastResponse): void {
    const meta = response.meta
    const reason = meta.fallback_reason
    const path = reason === null ? 'tollama' : 'baseline'
    this.#metrics.requestLatency[path].observe(meta.timings_ms.total)
    this.#metrics.request(200, path)
    if (reason !== null) this.#fallback(reason)
    this.#answered++
  }

  /** The caller withdrew before its answer (an aborted signal, a client that disconnected). */
  withdrawn(): void {
    this.#metrics.request(499, 'none')
    this.#withdrawn++
  }

  /** A result for work whose request had already been answered another way. */
  late(): void {
    this.#late++
  }

  get answered(): number {
    return this.#answered
  }

  get withdrawnCount(): number {
    return this.#withdrawn
  }

  get lateDropped(): number {
    return this.#late
  }

  /** Fallback answers per reason over the last 5 minutes (`/tsfm/state`). */
  fallbacksLast5m(): Record<string, number> {
    return this.#reasons.counts(this.#clock.now())
  }

  #fallback(reason: FallbackReason): void {
    this.#metrics.fallback(reason)
    this.#reasons.record(this.#clock.now(), reason)
  }
}
