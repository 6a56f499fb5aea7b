import type { Clock, TimerHandle } from './clock.js'

interface ManualTimer {
  readonly id: number
  readonly at: number
  readonly fn: () => void
}

/**
 * A clock that only moves when told to. Timers fire in due order (ties in creation order)
 * during `advance()`; a timer scheduled by a firing timer fires in the same advance if it is due.
 */
export class ManualClock implements Clock {
  #now: number
  #seq = 0
  #timers = new Map<number, ManualTimer>()

  constructor(start = 1_700_000_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn })
    return { id } as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete((handle as unknown as { id: number }).id)
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.#timers.size
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms
    for (;;) {
      let next: ManualTimer | undefined
      for (const t of this.#timers.values()) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t
      }
      if (next === undefined) break
      this.#timers.delete(next.id)
      this.#now = Math.max(this.#now, next.at)
      next.fn()
    }
    this.#now = target
  }

  /** Set the time (forward only), firing due timers. */
  set(ms: number): void {
    if (ms < this.#now) throw new RangeError(`ManualClock cannot go back: now ${this.#now}, asked ${ms}`)
    this.advance(ms - this.#now)
  }
}
