import { LRUMap } from 'mnemonist'
import type { Clock } from '../clock/clock.js'
import type { RateLimitConfig } from '../config/types.js'

class Bucket {
  constructor(
    public tokens: number,
    public updatedAt: number,
  ) {}
}

export type RateVerdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number }

const OK: RateVerdict = Object.freeze({ ok: true })

/**
 * Per-identity token buckets (SPEC §2.1 429): `burst` tokens, refilled at `refill_per_s`. The
 * identities live in an LRU of at most `max_identities`, so memory is bounded however many
 * clients appear; an identity pushed out simply starts again with a full bucket.
 */
export class RateLimiter {
  readonly #burst: number
  readonly #perMs: number
  readonly #clock: Clock
  readonly #buckets: LRUMap<string, Bucket>

  constructor(config: RateLimitConfig, clock: Clock) {
    this.#burst = config.burst
    this.#perMs = config.refill_per_s / 1000
    this.#clock = clock
    this.#buckets = new LRUMap<string, Bucket>(config.max_identities)
  }

  get size(): number {
    return this.#buckets.size
  }

  take(identity: string): RateVerdict {
    const now = this.#clock.now()
    let b = this.#buckets.get(identity)
    if (b === undefined) {
      b = new Bucket(this.#burst, now)
      this.#buckets.set(identity, b)
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.updatedAt) * this.#perMs)
      b.updatedAt = now
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return OK
    }
    const waitMs = this.#perMs > 0 ? (1 - b.tokens) / this.#perMs : 60_000
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) }
  }
}
