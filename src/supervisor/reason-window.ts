/**
 * Fallback counts per reason over the last few minutes, for `GET /tsfm/state`: a ring of
 * fixed-width buckets, each a small Map from reason to count, cleared as the ring turns.
 * One map increment per fallback; reading sums at most `buckets` maps.
 */
export class ReasonWindow {
  readonly #bucketMs: number
  readonly #buckets: Map<string, number>[]
  readonly #stamps: Float64Array

  constructor(
    readonly windowMs: number,
    buckets = 30,
  ) {
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / buckets))
    this.#buckets = Array.from({ length: buckets }, () => new Map<string, number>())
    this.#stamps = new Float64Array(buckets).fill(-1)
  }

  record(now: number, reason: string): void {
    const slot = Math.floor(now / this.#bucketMs)
    const i = slot % this.#buckets.length
    const bucket = this.#buckets[i] as Map<string, number>
    if (this.#stamps[i] !== slot) {
      bucket.clear()
      this.#stamps[i] = slot
    }
    bucket.set(reason, (bucket.get(reason) ?? 0) + 1)
  }

  /** Counts per reason over the window ending at `now`, reasons sorted. */
  counts(now: number): Record<string, number> {
    const newest = Math.floor(now / this.#bucketMs)
    const oldest = newest - this.#buckets.length + 1
    const sum = new Map<string, number>()
    for (let i = 0; i < this.#buckets.length; i++) {
      const stamp = this.#stamps[i] as number
      if (stamp < oldest || stamp > newest) continue
      for (const [r, n] of this.#buckets[i] as Map<string, number>) sum.set(r, (sum.get(r) ?? 0) + n)
    }
    const out: Record<string, number> = {}
    for (const r of [...sum.keys()].sort()) out[r] = sum.get(r) as number
    return out
  }
}
