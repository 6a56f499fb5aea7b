/**
 * A lane's adaptive in-flight limit: how many upstream *requests* it keeps outstanding (the unit
 * is requests, not series, because one request carries a whole batch). The rule is Netflix's
 * Gradient2 (concurrency-limits, `Gradient2Limit`), with the no-load latency of the request's own
 * size taken from the lane's cost model (cost-model.ts) instead of one long-window RTT, since a
 * 128-series batch is slower than a 1-series one without any queueing:
 *
 *   gradient = min(1, tolerance × noLoad / rtt)
 *   limit    ← limit × gradient + queue
 *
 * While latency stays within `tolerance` of the no-load latency the limit grows by `queue` per
 * answered request; when requests take longer — they waited inside the upstream — it shrinks in
 * proportion; an error or timeout (a drop) halves it. What this does on tollama, which serves a
 * model family one request at a time: with L requests outstanding the last one waits for the
 * others, rtt ≈ L × noLoad, so the limit settles where L × (tolerance / L) + queue = L, at
 * tolerance + queue = 2 (1.5 + 0.5): one request running and one waiting, which covers the gap
 * between an answer and the next request — a third would only wait inside tollama, where our
 * deadlines cannot see it. On an upstream that serves requests in parallel (several runners, a
 * GPU with batch slots) latency stays flat as the limit grows, so it grows, up to `max`
 * (`perf.worker_concurrency`). Latency noise within `tolerance` changes nothing (a relative
 * threshold: Vegas' fixed queue thresholds made a limit of 8 shrink on 10 % jitter).
 *
 * The limit grows only when it bound (at least half of it was in use when the request was sent).
 *
 * Pure: `nextLimit` is the transition, `InflightLimit` holds the estimate.
 */

export interface LimitConfig {
  readonly initial: number
  readonly min: number
  readonly max: number
  /** Latency up to this multiple of the no-load latency is not queueing (Gradient2: 1.5). */
  readonly tolerance: number
  /** Growth per answered request while latency is within tolerance (requests). */
  readonly queue: number
}

export type LimitSample =
  | {
      readonly kind: 'ok'
      readonly rttMs: number
      readonly noLoadMs: number
      /** Requests outstanding (itself included) when it was sent. */
      readonly outstanding: number
    }
  /** The request failed in a way that says the upstream is struggling (timeout, 5xx, 429, reset). */
  | { readonly kind: 'drop' }

/** The next estimate (a real number; the limit in force is its floor, within the bounds). */
export function nextLimit(estimate: number, sample: LimitSample, cfg: LimitConfig): number {
  if (sample.kind === 'drop') return Math.max(cfg.min, estimate / 2)
  const gradient = sample.rttMs > 0 && sample.noLoadMs > 0 ? Math.min(1, (cfg.tolerance * sample.noLoadMs) / sample.rttMs) : 1
  const next = Math.min(cfg.max, Math.max(cfg.min, estimate * gradient + cfg.queue))
  // Grow only a limit that bound (Gradient2's app-limited check): flat latency at half the limit
  // says nothing about what more requests would do. 32 closed-loop clients answered by one
  // request at a time never have two outstanding; a limit grown on their flat latency split the
  // next burst into small requests queued inside tollama (perf/lanes/throughput.ts: 1.1 s for
  // 200 concurrent forecasts instead of 0.33 s).
  if (next > estimate && sample.outstanding * 2 < estimate) return estimate
  return next
}

export class InflightLimit {
  readonly #cfg: LimitConfig
  #estimate: number
  #changes = 0

  constructor(cfg: LimitConfig) {
    if (!(Number.isInteger(cfg.min) && cfg.min >= 1 && cfg.max >= cfg.min)) {
      throw new RangeError(`in-flight limit bounds should be integers with 1 <= min <= max, got ${cfg.min}..${cfg.max}`)
    }
    this.#cfg = cfg
    this.#estimate = Math.min(cfg.max, Math.max(cfg.min, cfg.initial))
  }

  /** Requests the lane may have outstanding now. */
  get value(): number {
    return Math.max(this.#cfg.min, Math.floor(this.#estimate))
  }

  get estimate(): number {
    return this.#estimate
  }

  /** How many times the limit in force changed (for tests and the state page). */
  get changes(): number {
    return this.#changes
  }

  update(sample: LimitSample): number {
    const before = this.value
    this.#estimate = nextLimit(this.#estimate, sample, this.#cfg)
    if (this.value !== before) this.#changes++
    return this.value
  }
}
