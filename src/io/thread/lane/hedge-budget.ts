/**
 * The hedges' budget (issue "scale-out" item 2: hedges capped at 5 % of upstream requests): a
 * token bucket filled by `share` of a token per upstream request sent, drained by one token per
 * hedge, holding at most `burst` tokens. Under a spell of stalls the hedges stop once the bucket
 * is empty, so hedging can never double the load on replicas that are slow because they are
 * overloaded. Starts full, so the first stalls of a quiet daemon are hedged.
 */
export class HedgeBudget {
  readonly share: number
  readonly burst: number
  #tokens: number

  constructor(share = 0.05, burst = 5) {
    this.share = share
    this.burst = burst
    this.#tokens = burst
  }

  get tokens(): number {
    return this.#tokens
  }

  /** An upstream request was sent (hedges excluded). */
  earn(): void {
    this.#tokens = Math.min(this.burst, this.#tokens + this.share)
  }

  /** Spend a token for one hedge; false when there is none. */
  take(): boolean {
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
