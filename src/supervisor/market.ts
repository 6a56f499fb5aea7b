import { Queue } from 'mnemonist'
import { Mailbox } from '../actor/mailbox.js'
import type { Flight } from './flight.js'

/**
 * One market's cell: a bounded mailbox of flights waiting for the market's upstream slot(s)
 * (`per_market_inflight_limit`, 1 by default) and the count of flights holding one.
 */
export class MarketCell {
  inflight = 0
  /** Already in the scheduler's ready queue (a cell is in it at most once). */
  ready = false
  /** Live (not yet dispatched, not answered) flights in `queue`. */
  live = 0
  readonly queue: Mailbox<Flight>

  constructor(
    public id: string,
    capacity: number,
  ) {
    this.queue = new Mailbox<Flight>(capacity)
  }
}

export type AdmitResult = 'dispatch' | 'queued' | 'full'

/**
 * Per-market cells and the global upstream concurrency limit (SPEC §3 steps 7–8).
 *
 * - At most `perMarket` flights of one market hold an upstream slot at once.
 * - At most `global` flights hold a slot in total (`perf.worker_concurrency`).
 * - Waiting markets are served FIFO through a ready queue of cells (a cell re-enters at the tail
 *   after each dispatch), so one busy market cannot starve the others. Cells whose next flight
 *   is high priority wait in a second queue served first (`runner.forecast(req, { priority:
 *   'high' })`); normal ones still leave by their queue timeout if high traffic never pauses.
 * - A cell with nothing queued and nothing in flight is retired at once, so memory follows the
 *   markets active now, not every market ever seen; retired cells are recycled through a small
 *   free list to spare the allocator.
 */
export class MarketTable {
  readonly #cells = new Map<string, MarketCell>()
  readonly #ready = new Queue<MarketCell>()
  readonly #readyHigh = new Queue<MarketCell>()
  readonly #free: MarketCell[] = []
  #inflight = 0
  #queued = 0

  constructor(
    readonly perMarket: number,
    readonly global: number,
    readonly capacity: number,
    readonly maxFree = 1024,
  ) {}

  /** Flights holding an upstream slot. */
  get inflight(): number {
    return this.#inflight
  }

  /** Live flights waiting in mailboxes (the `tsfm_mailbox_depth` gauge). */
  get queued(): number {
    return this.#queued
  }

  /** Cells alive now (active markets). */
  get cells(): number {
    return this.#cells.size
  }

  /**
   * Admit `flight` for its market: `dispatch` (a slot is free and nobody is ahead: the caller
   * must call `take(flight)` and send it), `queued` (it waits, in state `queued`; `next()` will
   * hand it out), or
   * `full` (the market's mailbox is full: the caller answers `mailbox_full`).
   */
  admit(flight: Flight): AdmitResult {
    const id = flight.req.market_id
    let cell = this.#cells.get(id)
    if (cell === undefined) {
      cell = this.#free.pop() ?? new MarketCell(id, this.capacity)
      cell.id = id
      this.#cells.set(id, cell)
    }
    if (cell.live === 0 && cell.inflight < this.perMarket && this.#inflight < this.global && this.#ready.size === 0 && this.#readyHigh.size === 0) {
      return 'dispatch'
    }
    if (cell.queue.size >= cell.queue.capacity) this.#compact(cell)
    if (cell.queue.offer(flight) !== 'ok') {
      this.#retireIfIdle(cell)
      return 'full'
    }
    flight.state = 'queued'
    cell.live++
    this.#queued++
    if (!cell.ready && cell.inflight < this.perMarket) this.#enqueueReady(cell)
    return 'queued'
  }

  /** Give `flight` (admitted with `dispatch`, or returned by `next()`) its slots. */
  take(flight: Flight): void {
    const cell = this.#cells.get(flight.req.market_id) as MarketCell
    cell.inflight++
    this.#inflight++
    flight.holdsSlot = true
  }

  /** A flight left its queue without being dispatched (queue timeout, abandoned). */
  unqueue(flight: Flight): void {
    const cell = this.#cells.get(flight.req.market_id)
    if (cell === undefined) return
    cell.live--
    this.#queued--
    // The dead entry stays in the ring until it reaches the head or a compaction.
    dropAnswered(cell)
    this.#retireIfIdle(cell)
  }

  /** Return the slots of a flight whose upstream call ended. */
  release(flight: Flight): void {
    if (!flight.holdsSlot) return
    flight.holdsSlot = false
    this.#inflight--
    const cell = this.#cells.get(flight.req.market_id) as MarketCell
    cell.inflight--
    if (cell.live > 0 && !cell.ready && cell.inflight < this.perMarket) this.#enqueueReady(cell)
    this.#retireIfIdle(cell)
  }

  /**
   * The next queued flight allowed to start now (FIFO over ready markets), already holding its
   * slots; undefined when the global limit is reached or nothing is ready.
   */
  next(): Flight | undefined {
    while (this.#inflight < this.global && (this.#readyHigh.size > 0 || this.#ready.size > 0)) {
      const cell = (this.#readyHigh.size > 0 ? this.#readyHigh.dequeue() : this.#ready.dequeue()) as MarketCell
      cell.ready = false
      dropAnswered(cell)
      const flight = cell.queue.shift()
      if (flight === undefined) {
        this.#retireIfIdle(cell)
        continue
      }
      cell.live--
      this.#queued--
      cell.inflight++
      this.#inflight++
      flight.holdsSlot = true
      if (cell.live > 0 && cell.inflight < this.perMarket) this.#enqueueReady(cell)
      return flight
    }
    return undefined
  }

  #enqueueReady(cell: MarketCell): void {
    cell.ready = true
    dropAnswered(cell)
    if (cell.queue.peek()?.high === true) this.#readyHigh.enqueue(cell)
    else this.#ready.enqueue(cell)
  }

  #compact(cell: MarketCell): void {
    cell.queue.retain((f) => f.state === 'queued')
  }

  #retireIfIdle(cell: MarketCell): void {
    if (cell.inflight > 0 || cell.live > 0 || cell.ready) return
    cell.queue.drain(noop)
    this.#cells.delete(cell.id)
    if (this.#free.length < this.maxFree) this.#free.push(cell)
  }
}

function noop(): void {}

/** Shift the entries at the head of a cell's mailbox that were answered while they waited. */
function dropAnswered(cell: MarketCell): void {
  let head = cell.queue.peek()
  while (head !== undefined && head.state !== 'queued') {
    cell.queue.shift()
    head = cell.queue.peek()
  }
}
