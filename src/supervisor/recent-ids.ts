/**
 * The last `capacity` distinct ids seen, in a ring: `add` says whether an id is new. Used to
 * count a failed multiplexed request once toward the breaker's consecutive failures while its
 * members' outcomes arrive, possibly interleaved with other requests' (a member that retries
 * fails later than one that does not). Bounded: the oldest id is forgotten first.
 */
export class RecentIds {
  readonly #ring: Float64Array
  readonly #set = new Set<number>()
  #next = 0

  constructor(readonly capacity: number) {
    this.#ring = new Float64Array(capacity)
  }

  /** True when `id` was not among the recent ids (it is now). */
  add(id: number): boolean {
    if (this.#set.has(id)) return false
    if (this.#set.size === this.capacity) this.#set.delete(this.#ring[this.#next] as number)
    this.#ring[this.#next] = id
    this.#next = (this.#next + 1) % this.capacity
    this.#set.add(id)
    return true
  }
}
