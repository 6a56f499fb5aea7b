/**
 * A lane's adaptive in-flight limit: how many upstream *requests* it keeps outstanding (the unit
 * is requests, not series, because one request carries a whole batch). The idea is TCP Vegas as
 * Netflix's concurrency-limits applies it (`VegasLimit`): estimate how many of our requests wait
 * inside the upstream from how much longer they take than the no-load latency,
 *
 *   queue ≈ limit × (1 − noLoad / rtt)
 *
 * and grow the limit by one while that queue is short (< alpha), shrink it by one when it is long
 * (> beta), and halve it on an error or timeout (the drop signal of congestion control). Two
 * changes for our upstream:
 *
 *  - the no-load latency depends on the batch size, so `noLoad` is the lane's cost model for the
 *    request's own size (cost-model.ts), not one minimum RTT;
 *  - alpha 0.5 / beta 1.5 (Netflix: 3 / 6 requests, for servers with many cores): tollama serves
 *    one request per model family at a time, so a second request in flight is the most that
 *    helps — it covers the gap between one answer and the next request — and a third only waits
 *    inside tollama, where our deadlines cannot see it. On a serial upstream the limit settles at
 *    1–2; on one that really serves requests in parallel (several runners, a GPU with batch
 *    slots) latency stays flat as the limit grows, so it grows, up to `max` (worker_concurrency).
 *
 * Pure: `nextLimit` is the transition, `InflightLimit` holds the state.
 */

export interface LimitConfig {
  readonly initial: number
  readonly min: number
  readonly max: number
  /** Grow while the estimated upstream queue is below this (requests). */
  readonly alpha: number
  /** Shrink while it is above this (requests). */
  readonly beta: number
}

export type LimitSample =
  | { readonly kind: 'ok'; readonly rttMs: number; readonly noLoadMs: number }
  /** The request failed in a way that says the upstream is struggling (timeout, 5xx, 429, reset). */
  | { readonly kind: 'drop' }

export function nextLimit(limit: number, sample: LimitSample, cfg: LimitConfig): number {
  if (sample.kind === 'drop') return Math.max(cfg.min, Math.floor(limit / 2))
  const ratio = sample.noLoadMs > 0 && sample.rttMs > 0 ? Math.min(1, sample.noLoadMs / sample.rttMs) : 1
  const queue = limit * (1 - ratio)
  if (queue < cfg.alpha) return Math.min(cfg.max, limit + 1)
  if (queue > cfg.beta) return Math.max(cfg.min, limit - 1)
  return limit
}

export class InflightLimit {
  readonly #cfg: LimitConfig
  #limit: number
  #changes = 0

  constructor(cfg: LimitConfig) {
    if (!(Number.isInteger(cfg.min) && cfg.min >= 1 && cfg.max >= cfg.min)) {
      throw new RangeError(`in-flight limit bounds should be integers with 1 <= min <= max, got ${cfg.min}..${cfg.max}`)
    }
    this.#cfg = cfg
    this.#limit = Math.min(cfg.max, Math.max(cfg.min, cfg.initial))
  }

  get value(): number {
    return this.#limit
  }

  /** How many times the limit changed (for tests and the state page). */
  get changes(): number {
    return this.#changes
  }

  update(sample: LimitSample): number {
    const next = nextLimit(this.#limit, sample, this.#cfg)
    if (next !== this.#limit) this.#changes++
    this.#limit = next
    return next
  }
}
