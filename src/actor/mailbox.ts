/**
 * A bounded FIFO mailbox: one preallocated ring buffer (head index + size, power-of-two mask, like
 * node core's `lib/internal/fixed_queue.js` but a single fixed ring, since it is bounded).
 *
 * `offer()` answers in tokio's vocabulary (`tokio/src/sync/mpsc/error.rs`): `'ok'`, `'full'` or
 * `'closed'`. A refused message is not dropped: the caller still holds it and decides (the
 * supervisor answers it from the baseline with `mailbox_full`). SPEC §3 step 7: never drop.
 *
 * Two ways to use it:
 * - as a plain queue: `offer` / `shift` / `peek` / `drain`;
 * - as an actor (`new Mailbox(capacity, process)`): `offer` enqueues and, unless a message is
 *   already being processed, processes every queued message to completion in one synchronous
 *   loop. A message offered while processing (re-entrantly, from inside `process`) is queued
 *   behind the others and handled by the running loop, never by a nested call — the model is
 *   xstate's `packages/core/src/Mailbox.ts`. No closure or promise per message.
 *
 * A message is out of the mailbox (and no longer counts against its capacity) from the moment
 * it is handed to `process`.
 *
 * An actor whose messages must never be refused (the supervisor: its messages are answers and
 * timers, and handling one inline would break run-to-completion) is made with
 * `Mailbox.unbounded(process)`: its ring starts small and doubles when full, so `offer` never
 * answers `'full'`; what bounds it is the work that generates the messages.
 */

export type OfferResult = 'ok' | 'full' | 'closed'

/** The largest ring we preallocate (2^24 slots); mailboxes are small (`perf.mailbox_capacity`). */
const MAX_CAPACITY = 1 << 24
/** An unbounded mailbox's first ring; it doubles as needed. */
const INITIAL_UNBOUNDED_SLOTS = 1024

export class Mailbox<T> {
  readonly capacity: number
  #ring: (T | undefined)[]
  #mask: number
  readonly #process: ((msg: T) => void) | null
  #head = 0
  #size = 0
  #closed = false
  #processing = false

  /** A mailbox that never refuses a message: its ring grows (see the file comment). */
  static unbounded<T>(process?: (msg: T) => void): Mailbox<T> {
    return new Mailbox<T>(Number.POSITIVE_INFINITY, process)
  }

  constructor(capacity: number, process?: (msg: T) => void) {
    const unbounded = capacity === Number.POSITIVE_INFINITY
    if (!unbounded && (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY)) {
      throw new RangeError(`mailbox capacity must be an integer in 1..${MAX_CAPACITY}, got ${String(capacity)}`)
    }
    this.capacity = capacity
    // The ring is rounded up to a power of two so an index wraps with `& mask`; the bound that
    // `offer` enforces is still exactly `capacity`.
    let slots = 1
    while (slots < (unbounded ? INITIAL_UNBOUNDED_SLOTS : capacity)) slots <<= 1
    this.#ring = new Array<T | undefined>(slots).fill(undefined)
    this.#mask = slots - 1
    this.#process = process ?? null
  }

  /** Messages waiting (not counting one being processed). */
  get size(): number {
    return this.#size
  }

  get closed(): boolean {
    return this.#closed
  }

  /** True while the actor loop runs (always false for a plain queue). */
  get processing(): boolean {
    return this.#processing
  }

  /**
   * Enqueue `msg`. In actor mode, also runs the processing loop unless it is already running
   * (further up this very stack). If `process` throws, the loop still processes every other
   * queued message, then rethrows the first error to the caller of the `offer` that started it.
   */
  offer(msg: T): OfferResult {
    if (this.#closed) return 'closed'
    if (this.#size === this.capacity) return 'full'
    if (this.#size === this.#ring.length) this.#grow()
    this.#ring[(this.#head + this.#size) & this.#mask] = msg
    this.#size++
    if (this.#process !== null && !this.#processing) this.#run(this.#process)
    return 'ok'
  }

  /** Remove and return the oldest message, or undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const msg = this.#ring[this.#head]
    this.#ring[this.#head] = undefined // let the message be collected
    this.#head = (this.#head + 1) & this.#mask
    this.#size--
    return msg
  }

  /** The oldest message without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#ring[this.#head]
  }

  /**
   * Refuse further offers. Messages already queued stay: an actor keeps processing them, and a
   * plain queue can still `shift` or `drain` them (tokio's `close()` semantics). Idempotent.
   */
  close(): void {
    this.#closed = true
  }

  /**
   * Remove every queued message, oldest first, handing each to `fn`; returns how many. Messages
   * offered by `fn` itself are drained too. Used at shutdown to answer whatever is still waiting.
   */
  drain(fn: (msg: T) => void): number {
    let n = 0
    while (this.#size > 0) {
      fn(this.shift() as T)
      n++
    }
    return n
  }

  /**
   * Keep only the messages for which `keep` is true, in order, in place; returns how many were
   * removed. A request answered elsewhere (its queue timeout fired) would otherwise hold a slot
   * until its turn and make the mailbox answer `full` while it is mostly dead.
   */
  retain(keep: (msg: T) => boolean): number {
    const ring = this.#ring
    const mask = this.#mask
    const head = this.#head
    const size = this.#size
    let kept = 0
    for (let i = 0; i < size; i++) {
      const msg = ring[(head + i) & mask] as T
      if (keep(msg)) {
        ring[(head + kept) & mask] = msg
        kept++
      }
    }
    for (let i = kept; i < size; i++) ring[(head + i) & mask] = undefined
    this.#size = kept
    return size - kept
  }

  /** Double the ring (unbounded mailboxes only: a bounded one is full before its ring is). */
  #grow(): void {
    const old = this.#ring
    const ring = new Array<T | undefined>(old.length * 2).fill(undefined)
    for (let i = 0; i < this.#size; i++) ring[i] = old[(this.#head + i) & this.#mask]
    this.#ring = ring
    this.#mask = ring.length - 1
    this.#head = 0
  }

  #run(process: (msg: T) => void): void {
    this.#processing = true
    let failed = false
    let error: unknown
    while (this.#size > 0) {
      const msg = this.shift() as T
      try {
        process(msg)
      } catch (e) {
        // `process` owns its error handling (as in xstate); if it throws anyway, the other
        // messages must not be stranded in the queue with nobody left to run the loop.
        if (!failed) {
          failed = true
          error = e
        }
      }
    }
    this.#processing = false
    if (failed) throw error
  }
}
