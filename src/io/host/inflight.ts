import type { Clock, TimerHandle } from '../../clock/clock.js'

/**
 * The host's record of tickets handed to the I/O thread and not answered yet, with the safety
 * net that nothing waits forever: when a ticket's deadline passes without an outcome, `onExpire`
 * gets it. One timer, for the earliest deadline, not one per job: deadlines sit in a binary
 * min-heap (parallel arrays, no object per entry) and answered tickets are skipped lazily when
 * they reach the top.
 */
export class HeldTicket {
  readonly deadline: number
  readonly submittedAt: number

  constructor(deadline: number, submittedAt: number) {
    this.deadline = deadline
    this.submittedAt = submittedAt
  }
}

export class InflightTickets {
  readonly #clock: Clock
  readonly #onExpire: (ticket: number, held: HeldTicket) => void
  readonly #held = new Map<number, HeldTicket>()
  #deadlines: number[] = []
  #tickets: number[] = []
  #timer: TimerHandle | null = null
  #timerAt = Number.POSITIVE_INFINITY

  constructor(clock: Clock, onExpire: (ticket: number, held: HeldTicket) => void) {
    this.#clock = clock
    this.#onExpire = onExpire
  }

  get size(): number {
    return this.#held.size
  }

  has(ticket: number): boolean {
    return this.#held.has(ticket)
  }

  add(ticket: number, deadline: number, submittedAt: number): void {
    this.#held.set(ticket, new HeldTicket(deadline, submittedAt))
    this.#push(deadline, ticket)
    if (deadline < this.#timerAt) this.#arm(deadline)
  }

  /** Removes `ticket`; its record if it was held (an answer for a ticket not held is dropped). */
  take(ticket: number): HeldTicket | undefined {
    const held = this.#held.get(ticket)
    if (held === undefined) return undefined
    this.#held.delete(ticket)
    if (this.#held.size === 0) this.#reset()
    return held
  }

  /** The latest deadline of a held ticket (−Infinity when none is held); O(n), for `close()`. */
  latestDeadline(): number {
    let latest = Number.NEGATIVE_INFINITY
    for (const held of this.#held.values()) if (held.deadline > latest) latest = held.deadline
    return latest
  }

  /** Removes and returns every held ticket (the thread died, or the host is closing). */
  takeAll(): Map<number, HeldTicket> {
    const all = new Map(this.#held)
    this.#held.clear()
    this.#reset()
    return all
  }

  #reset(): void {
    this.#deadlines = []
    this.#tickets = []
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = Number.POSITIVE_INFINITY
  }

  #arm(at: number): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = this.#clock.setTimeout(this.#fire, at - this.#clock.now(), true)
  }

  readonly #fire = (): void => {
    this.#timer = null
    this.#timerAt = Number.POSITIVE_INFINITY
    const now = this.#clock.now()
    while (this.#deadlines.length > 0 && this.#deadlines[0]! <= now) {
      const deadline = this.#deadlines[0]!
      const ticket = this.#tickets[0]!
      this.#pop()
      const held = this.#held.get(ticket)
      // A stale heap entry (answered, or the ticket reused with another deadline) is skipped.
      if (held === undefined || held.deadline !== deadline) continue
      this.#held.delete(ticket)
      this.#onExpire(ticket, held)
    }
    if (this.#held.size === 0) this.#reset()
    else if (this.#deadlines.length > 0) this.#arm(this.#deadlines[0]!)
  }

  #push(deadline: number, ticket: number): void {
    const d = this.#deadlines
    const t = this.#tickets
    let i = d.length
    d.push(deadline)
    t.push(ticket)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (d[parent]! <= deadline) break
      d[i] = d[parent]!
      t[i] = t[parent]!
      i = parent
    }
    d[i] = deadline
    t[i] = ticket
  }

  #pop(): void {
    const d = this.#deadlines
    const t = this.#tickets
    const lastD = d.pop()!
    const lastT = t.pop()!
    const n = d.length
    if (n === 0) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && d[r]! < d[l]! ? r : l
      if (d[c]! >= lastD) break
      d[i] = d[c]!
      t[i] = t[c]!
      i = c
    }
    d[i] = lastD
    t[i] = lastT
  }
}
