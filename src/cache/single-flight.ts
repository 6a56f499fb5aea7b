/**
 * Single-flight (SPEC §3.3): identical requests in flight share one computation. The first
 * request for a key leads (it starts the computation); the others follow. When the result is
 * ready, `settle` hands back every waiter, leader first, and the caller answers them all with
 * the one result. Waiters are the caller's plain objects — no promise per waiter.
 *
 * Bounded by construction: a key exists only from its first `join` to its `settle`, so there are
 * never more flights than computations in flight. The caller must settle every flight it leads,
 * success or failure.
 */

const NONE: readonly never[] = Object.freeze([])

export type FlightRole = 'leader' | 'follower'

export class SingleFlight<W> {
  readonly #flights = new Map<string, W[]>()

  /** Join the flight for `key`: the first joiner leads, later ones follow. */
  join(key: string, waiter: W): FlightRole {
    const waiters = this.#flights.get(key)
    if (waiters === undefined) {
      this.#flights.set(key, [waiter])
      return 'leader'
    }
    waiters.push(waiter)
    return 'follower'
  }

  /** End the flight for `key`: its waiters in join order (the caller now owns the array). */
  settle(key: string): readonly W[] {
    const waiters = this.#flights.get(key)
    if (waiters === undefined) return NONE
    this.#flights.delete(key)
    return waiters
  }

  /**
   * Take one waiter out of its flight (it was answered another way, e.g. its own deadline
   * passed). The flight itself stays until `settle`, even with no waiters left: the computation
   * is still running, and a request arriving now should join it rather than start another.
   */
  remove(key: string, waiter: W): boolean {
    const waiters = this.#flights.get(key)
    if (waiters === undefined) return false
    const i = waiters.indexOf(waiter)
    if (i < 0) return false
    waiters.splice(i, 1)
    return true
  }

  has(key: string): boolean {
    return this.#flights.has(key)
  }

  /** Waiters of the flight for `key` (0 when there is no flight, or all were removed). */
  waiting(key: string): number {
    return this.#flights.get(key)?.length ?? 0
  }

  /** Flights in progress. */
  get size(): number {
    return this.#flights.size
  }
}
