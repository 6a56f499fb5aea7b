import type { Clock, TimerHandle } from '../clock/clock.js'

/** Something with a due time that can sit in a TimerHeap (the heap owns `heapIndex`). */
export interface Timed {
  /** Absolute time on the clock at which `onDue` should run. */
  dueAt: number
  /** Position in the heap, -1 when not scheduled. Owned by TimerHeap. */
  heapIndex: number
}

/**
 * Many deadlines, one clock timer: an indexed binary min-heap of due times with a single
 * `clock.setTimeout` armed for the earliest. Scheduling, rescheduling and cancelling are
 * O(log n) and allocate nothing, instead of one setTimeout (and one closure) per request.
 * The timer is re-armed only when the earliest due time moves earlier, so a burst of
 * arrivals with later deadlines costs no timer churn.
 */
export class TimerHeap<T extends Timed> {
  readonly #clock: Clock
  readonly #onDue: (item: T) => void
  readonly #items: T[] = []
  #timer: TimerHandle | null = null
  #armedAt = Infinity
  readonly #fire = (): void => this.#run()

  constructor(clock: Clock, onDue: (item: T) => void) {
    this.#clock = clock
    this.#onDue = onDue
  }

  get size(): number {
    return this.#items.length
  }

  /** Schedule (or reschedule) `item` at `dueAt`. */
  schedule(item: T, dueAt: number): void {
    if (item.heapIndex >= 0) this.cancel(item)
    item.dueAt = dueAt
    item.heapIndex = this.#items.length
    this.#items.push(item)
    this.#up(item.heapIndex)
    this.#arm()
  }

  cancel(item: T): void {
    const i = item.heapIndex
    if (i < 0) return
    const last = this.#items.pop() as T
    item.heapIndex = -1
    if (i < this.#items.length) {
      this.#items[i] = last
      last.heapIndex = i
      this.#down(i)
      this.#up(last.heapIndex)
    }
    // The armed timer may now be early; #run copes (it fires, finds nothing due, re-arms).
  }

  /** Stop the clock timer; items stay in the heap (used on close). */
  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
    this.#armedAt = Infinity
  }

  /** Run every item due at `now` (also called by the timer). */
  #run(): void {
    this.#timer = null
    this.#armedAt = Infinity
    const now = this.#clock.now()
    while (this.#items.length > 0 && (this.#items[0] as T).dueAt <= now) {
      const top = this.#items[0] as T
      this.cancel(top)
      this.#onDue(top)
    }
    this.#arm()
  }

  #arm(): void {
    if (this.#items.length === 0) return
    const at = (this.#items[0] as T).dueAt
    if (at >= this.#armedAt) return
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#armedAt = at
    this.#timer = this.#clock.setTimeout(this.#fire, at - this.#clock.now(), true)
  }

  #up(i: number): void {
    const items = this.#items
    const item = items[i] as T
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = items[p] as T
      if (parent.dueAt <= item.dueAt) break
      items[i] = parent
      parent.heapIndex = i
      i = p
    }
    items[i] = item
    item.heapIndex = i
  }

  #down(i: number): void {
    const items = this.#items
    const n = items.length
    const item = items[i] as T
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && (items[r] as T).dueAt < (items[l] as T).dueAt) c = r
      const child = items[c] as T
      if (child.dueAt >= item.dueAt) break
      items[i] = child
      child.heapIndex = i
      i = c
    }
    items[i] = item
    item.heapIndex = i
  }
}
