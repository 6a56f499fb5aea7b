/**
 * Tickets for work that answers later as a message (an I/O actor outcome, a math pool result).
 *
 * The requester issues a ticket, sends it with the job, and takes it back when the result
 * arrives. If the request was already answered another way (deadline passed, queue timeout,
 * shutdown) its ticket was cancelled, `take` finds nothing, and the late message is dropped —
 * xstate's rule that an actor ignores results for a state it has left (`src/actors/promise.ts`).
 *
 * Tickets are plain increasing integers (exact up to 2^53: at a million a second, 285 years), so
 * a ticket is never reused and a very late result can never be matched to a newer request.
 */

export interface TicketStats {
  readonly issued: number
  /** Results matched to a waiting owner. */
  readonly taken: number
  readonly cancelled: number
  /** Late results whose request had already been answered or cancelled. */
  readonly dropped: number
  /** Tickets waiting for their result now. */
  readonly open: number
}

export class Tickets<T extends object> {
  readonly #open = new Map<number, T>()
  #next = 1
  #issued = 0
  #taken = 0
  #cancelled = 0
  #dropped = 0

  /** A fresh ticket for `owner` (whatever the caller needs to answer the result). */
  issue(owner: T): number {
    const ticket = this.#next++
    this.#open.set(ticket, owner)
    this.#issued++
    return ticket
  }

  /**
   * The owner of `ticket`, closing it; undefined if it was already taken or cancelled (the
   * result is late: drop it) — such calls are counted as `dropped`.
   */
  take(ticket: number): T | undefined {
    const owner = this.#open.get(ticket)
    if (owner === undefined) {
      this.#dropped++
      return undefined
    }
    this.#open.delete(ticket)
    this.#taken++
    return owner
  }

  /** Close `ticket` without a result (its request was answered another way). */
  cancel(ticket: number): boolean {
    if (!this.#open.delete(ticket)) return false
    this.#cancelled++
    return true
  }

  has(ticket: number): boolean {
    return this.#open.has(ticket)
  }

  /** Tickets waiting for their result. */
  get size(): number {
    return this.#open.size
  }

  stats(): TicketStats {
    return {
      issued: this.#issued,
      taken: this.#taken,
      cancelled: this.#cancelled,
      dropped: this.#dropped,
      open: this.#open.size,
    }
  }
}
