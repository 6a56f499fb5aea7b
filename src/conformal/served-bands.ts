import type { ConformalAdjustment } from './adjustment.js'

/** What `take` hands back. One object per ServedBands, overwritten by the next `take`. */
export interface ServedBand {
  /** The segment key the band was served under (null: the default). */
  readonly segmentKey: string | null
  /** The raw (pre-adjustment) last step of the band; `center` null when none was forecast. */
  readonly low: number
  readonly center: number | null
  readonly high: number
  /** The adjustment it was served with (null: served unadjusted). */
  readonly applied: ConformalAdjustment | null
  readonly resolvesAtMs: number
}

export interface ServedBandsOptions {
  /** Bands held at most; beyond, the one nearest its expiry is dropped. */
  readonly maxEntries: number
  /** How long after `resolvesAtMs` an outcome is still matched. */
  readonly graceMs: number
}

export const SERVED_BANDS_DEFAULTS: ServedBandsOptions = Object.freeze({ maxEntries: 50_000, graceMs: 30 * 60_000 })

class TakenBand implements ServedBand {
  segmentKey: string | null = null
  low = 0
  center: number | null = null
  high = 0
  applied: ConformalAdjustment | null = null
  resolvesAtMs = 0
}

/**
 * The last-step bands the runner served that can still resolve, keyed by (market_id,
 * as_of_ts), so that an outcome can be matched to its band. An entry lives until
 * `resolvesAtMs + graceMs` and is taken at most once.
 *
 * Entries sit in preallocated slots (typed arrays for the numbers); a Map finds a key's slot,
 * and an indexed binary min-heap of slots ordered by expiry (then record order) drops what has
 * expired on every record, take and `expire` — O(log n) each, no timers. A heap rather than a
 * FIFO in record order because horizons differ: a week-ahead band recorded before a thousand
 * hour-ahead ones would otherwise pin them all until it expired. When full, the entry nearest
 * its expiry goes: its outcome is the most overdue, the least likely still to come.
 *
 * Bookkeeping: recorded = matched + expired + evicted + size at all times.
 */
export class ServedBands {
  readonly maxEntries: number
  readonly graceMs: number
  readonly #slotOf = new Map<string, number>()
  readonly #keys: (string | null)[]
  readonly #segments: (string | null)[]
  readonly #applied: (ConformalAdjustment | null)[]
  readonly #expiresAt: Float64Array
  readonly #resolvesAt: Float64Array
  readonly #seq: Float64Array
  readonly #low: Float64Array
  /** NaN: no centre forecast. */
  readonly #center: Float64Array
  readonly #high: Float64Array
  /** The forecast's horizon_steps (0: not given). */
  readonly #horizon: Int32Array
  /** Heap of slot numbers; #heapPos[slot] is where a slot sits in it (-1: free). */
  readonly #heap: Int32Array
  readonly #heapPos: Int32Array
  readonly #free: Int32Array
  #freeCount: number
  #size = 0
  #nextSeq = 0
  readonly #taken = new TakenBand()
  #recorded = 0
  #refreshed = 0
  #matched = 0
  #unmatched = 0
  #expired = 0
  #evicted = 0

  constructor(options: Partial<ServedBandsOptions> = {}) {
    const o = { ...SERVED_BANDS_DEFAULTS, ...options }
    if (!Number.isInteger(o.maxEntries) || o.maxEntries < 1) throw new RangeError(`ServedBands maxEntries should be an integer ≥ 1, got ${o.maxEntries}`)
    if (!(o.graceMs >= 0)) throw new RangeError(`ServedBands graceMs should be ≥ 0, got ${o.graceMs}`)
    this.maxEntries = o.maxEntries
    this.graceMs = o.graceMs
    const n = o.maxEntries
    this.#keys = new Array<string | null>(n).fill(null)
    this.#segments = new Array<string | null>(n).fill(null)
    this.#applied = new Array<ConformalAdjustment | null>(n).fill(null)
    this.#expiresAt = new Float64Array(n)
    this.#resolvesAt = new Float64Array(n)
    this.#seq = new Float64Array(n)
    this.#low = new Float64Array(n)
    this.#center = new Float64Array(n)
    this.#high = new Float64Array(n)
    this.#horizon = new Int32Array(n)
    this.#heap = new Int32Array(n)
    this.#heapPos = new Int32Array(n).fill(-1)
    this.#free = new Int32Array(n)
    // Pop order 0, 1, 2, … so that slots fill from the start.
    for (let i = 0; i < n; i++) this.#free[i] = n - 1 - i
    this.#freeCount = n
  }

  get size(): number {
    return this.#size
  }
  /** Distinct bands recorded (a re-record of a held key counts in `refreshed` instead). */
  get recorded(): number {
    return this.#recorded
  }
  get refreshed(): number {
    return this.#refreshed
  }
  /** Outcomes that found their band. */
  get matched(): number {
    return this.#matched
  }
  /** Outcomes that found none (never served, already taken, expired or evicted). */
  get unmatched(): number {
    return this.#unmatched
  }
  get expired(): number {
    return this.#expired
  }
  get evicted(): number {
    return this.#evicted
  }

  /**
   * Remember a served band. Re-recording a key still held (a cached re-answer) overwrites its
   * band and expiry in place; it is not a second entry. A band already past its expiry is
   * counted as recorded and expired and not kept. Returns true when the key was new.
   */
  record(marketId: string, asOfTs: string, resolvesAtMs: number, segmentKey: string | null, low: number, center: number | null, high: number, applied: ConformalAdjustment | null, nowMs: number, horizon = 0): boolean {
    this.expire(nowMs)
    const key = bandKey(marketId, asOfTs)
    const expiresAt = resolvesAtMs + this.graceMs
    const held = this.#slotOf.get(key)
    if (held !== undefined) {
      this.#refreshed++
      if (!(expiresAt > nowMs)) {
        this.#remove(held)
        this.#expired++
        return false
      }
      this.#fill(held, resolvesAtMs, expiresAt, segmentKey, low, center, high, applied, horizon)
      this.#fix(this.#heapPos[held] as number)
      return false
    }
    this.#recorded++
    // NaN lands here too: a band with no valid expiry could never leave the heap in order.
    if (!(expiresAt > nowMs)) {
      this.#expired++
      return true
    }
    if (this.#size === this.maxEntries) {
      this.#remove(this.#heap[0] as number)
      this.#evicted++
    }
    const slot = this.#free[--this.#freeCount] as number
    this.#slotOf.set(key, slot)
    this.#keys[slot] = key
    this.#seq[slot] = this.#nextSeq++
    this.#fill(slot, resolvesAtMs, expiresAt, segmentKey, low, center, high, applied, horizon)
    const at = this.#size++
    this.#heap[at] = slot
    this.#heapPos[slot] = at
    this.#up(at)
    return true
  }

  /**
   * The band served for (marketId, asOfTs), removed so that it resolves once; null when none is
   * held (counted in `unmatched`). The returned object is reused by the next call: copy what
   * you keep.
   */
  take(marketId: string, asOfTs: string, nowMs: number): ServedBand | null {
    this.expire(nowMs)
    const slot = this.#slotOf.get(bandKey(marketId, asOfTs))
    if (slot === undefined) {
      this.#unmatched++
      return null
    }
    const t = this.#taken
    t.segmentKey = this.#segments[slot] as string | null
    t.low = this.#low[slot] as number
    const c = this.#center[slot] as number
    t.center = Number.isNaN(c) ? null : c
    t.high = this.#high[slot] as number
    t.applied = this.#applied[slot] as ConformalAdjustment | null
    t.resolvesAtMs = this.#resolvesAt[slot] as number
    this.#remove(slot)
    this.#matched++
    return t
  }

  /** The horizon_steps of the band held for (marketId, asOfTs) (0: not given), or -1 when none is held. */
  horizonOf(marketId: string, asOfTs: string): number {
    const slot = this.#slotOf.get(bandKey(marketId, asOfTs))
    return slot === undefined ? -1 : (this.#horizon[slot] as number)
  }

  /** When the band held for (marketId, asOfTs) resolves, without taking it; NaN when none is held. */
  resolvesAtOf(marketId: string, asOfTs: string): number {
    const slot = this.#slotOf.get(bandKey(marketId, asOfTs))
    return slot === undefined ? Number.NaN : (this.#resolvesAt[slot] as number)
  }

  /** Drop every band whose expiry is ≤ `nowMs`; returns how many went. */
  expire(nowMs: number): number {
    let n = 0
    while (this.#size > 0 && (this.#expiresAt[this.#heap[0] as number] as number) <= nowMs) {
      this.#remove(this.#heap[0] as number)
      n++
    }
    this.#expired += n
    return n
  }

  #fill(slot: number, resolvesAtMs: number, expiresAt: number, segmentKey: string | null, low: number, center: number | null, high: number, applied: ConformalAdjustment | null, horizon: number): void {
    this.#horizon[slot] = horizon
    this.#resolvesAt[slot] = resolvesAtMs
    this.#expiresAt[slot] = expiresAt
    this.#segments[slot] = segmentKey
    this.#low[slot] = low
    this.#center[slot] = center === null ? Number.NaN : center
    this.#high[slot] = high
    this.#applied[slot] = applied
  }

  #remove(slot: number): void {
    const at = this.#heapPos[slot] as number
    const last = --this.#size
    this.#heapPos[slot] = -1
    if (at !== last) {
      const moved = this.#heap[last] as number
      this.#heap[at] = moved
      this.#heapPos[moved] = at
      this.#fix(at)
    }
    this.#slotOf.delete(this.#keys[slot] as string)
    // Drop references so that strings and adjustments of gone bands can be collected.
    this.#keys[slot] = null
    this.#segments[slot] = null
    this.#applied[slot] = null
    this.#free[this.#freeCount++] = slot
  }

  /** Restore heap order around position `at` after its slot's expiry changed. */
  #fix(at: number): void {
    if (at > 0 && this.#before(this.#heap[at] as number, this.#heap[(at - 1) >> 1] as number)) this.#up(at)
    else this.#down(at)
  }

  #before(a: number, b: number): boolean {
    const ea = this.#expiresAt[a] as number
    const eb = this.#expiresAt[b] as number
    return ea < eb || (ea === eb && (this.#seq[a] as number) < (this.#seq[b] as number))
  }

  #up(at: number): void {
    const heap = this.#heap
    const slot = heap[at] as number
    while (at > 0) {
      const parent = (at - 1) >> 1
      const p = heap[parent] as number
      if (!this.#before(slot, p)) break
      heap[at] = p
      this.#heapPos[p] = at
      at = parent
    }
    heap[at] = slot
    this.#heapPos[slot] = at
  }

  #down(at: number): void {
    const heap = this.#heap
    const n = this.#size
    const slot = heap[at] as number
    for (;;) {
      const l = 2 * at + 1
      if (l >= n) break
      const r = l + 1
      const child = r < n && this.#before(heap[r] as number, heap[l] as number) ? r : l
      const c = heap[child] as number
      if (!this.#before(c, slot)) break
      heap[at] = c
      this.#heapPos[c] = at
      at = child
    }
    heap[at] = slot
    this.#heapPos[slot] = at
  }
}

/** Length-prefixed so that no (market_id, as_of_ts) pair collides with another. */
function bandKey(marketId: string, asOfTs: string): string {
  return `${marketId.length}:${marketId}${asOfTs}`
}
