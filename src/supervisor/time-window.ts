/**
 * A sliding window of success/failure counts over time: a preallocated ring of fixed-width time
 * buckets with running totals (cockatiel's SamplingBreaker is the model). Recording and reading a
 * tracked window are O(1) amortised — moving the head touches each bucket once per tracked window —
 * and nothing allocates after construction.
 *
 * Differences from cockatiel: buckets are addressed by absolute index `floor(t / bucketMs)`, so an
 * idle gap of any length clears every bucket it skipped (cockatiel rotates one bucket per push and
 * so keeps counts older than its window after a quiet spell); running totals are kept for several
 * windows at once (the mode machine judges 1, 3 and 5 minutes on every outcome: scanning those
 * buckets cost ~3.5 µs per ModeMachine.record, running totals ~0.1–0.2 µs, measured with
 * perf/supervisor/breaker.bench.ts); and time only comes in as an argument (the owner reads its
 * injected Clock), so the window itself is deterministic.
 *
 * The window is bucket-granular: "the last W" means the `ceil(W / bucketMs)` buckets ending with the
 * current, partly filled one — between W − bucketMs and W of history. With 1 s buckets and windows
 * of minutes that error is below 2 %.
 */

/** Counts written by {@link TimeWindow.countSince}; the caller owns (and may reuse) the object. */
export interface WindowCounts {
  successes: number
  failures: number
}

export interface TimeWindowOptions {
  /** Bucket width; default {@link bucketMsFor}(span). */
  readonly bucketMs?: number
  /** Shorter windows (ms) whose totals are kept running, so `countSince` answers them in O(1). */
  readonly trackMs?: readonly number[]
}

/** The longest ring we preallocate; longer spans get wider buckets instead. */
const MAX_BUCKETS = 3600

/** Bucket width for a span: 1 s, widened so that a span never needs more than 3600 buckets. */
export function bucketMsFor(spanMs: number): number {
  return Math.max(1000, Math.ceil(spanMs / MAX_BUCKETS))
}

export class TimeWindow {
  /** Width of one bucket. */
  readonly bucketMs: number
  /** Number of buckets in the ring. */
  readonly buckets: number
  /** `buckets × bucketMs`: the longest window this ring can answer for. */
  readonly spanMs: number

  readonly #ok: Int32Array
  readonly #fail: Int32Array
  /** Length in buckets of each window with running totals; [0] is the whole span. */
  readonly #trackBuckets: Int32Array
  readonly #trackOk: Float64Array
  readonly #trackFail: Float64Array
  readonly #scratch: WindowCounts
  /** Absolute index of the newest bucket; -Infinity before the first use. */
  #head: number

  constructor(spanMs: number, options: TimeWindowOptions = {}) {
    const bucketMs = options.bucketMs ?? bucketMsFor(spanMs)
    if (!(Number.isFinite(spanMs) && spanMs > 0)) throw new RangeError(`TimeWindow span should be a positive number of ms, got ${spanMs}`)
    if (!(Number.isFinite(bucketMs) && bucketMs > 0)) throw new RangeError(`TimeWindow bucket should be a positive number of ms, got ${bucketMs}`)
    this.bucketMs = bucketMs
    this.buckets = Math.ceil(spanMs / bucketMs)
    this.spanMs = this.buckets * bucketMs
    this.#ok = new Int32Array(this.buckets)
    this.#fail = new Int32Array(this.buckets)
    const tracked = [this.buckets]
    for (const ms of options.trackMs ?? []) {
      if (!(ms > 0 && ms <= this.spanMs)) throw new RangeError(`TimeWindow tracked window should be in (0, ${this.spanMs}] ms, got ${ms}`)
      const wb = Math.ceil(ms / bucketMs)
      if (!tracked.includes(wb)) tracked.push(wb)
    }
    this.#trackBuckets = Int32Array.from(tracked)
    this.#trackOk = new Float64Array(tracked.length)
    this.#trackFail = new Float64Array(tracked.length)
    this.#scratch = { successes: 0, failures: 0 }
    this.#head = Number.NEGATIVE_INFINITY
  }

  /** Count one outcome at time `now` (ms). A time older than the newest bucket counts in that bucket. */
  record(now: number, success: boolean): void {
    this.#advance(now)
    const i = this.#slot(this.#head)
    const totals = success ? this.#trackOk : this.#trackFail
    if (success) this.#ok[i]++
    else this.#fail[i]++
    for (let j = 0; j < totals.length; j++) totals[j]++
  }

  /** Successes in the whole span ending at `now`. */
  successes(now: number): number {
    this.#advance(now)
    return this.#trackOk[0]
  }

  /** Failures in the whole span ending at `now`. */
  failures(now: number): number {
    this.#advance(now)
    return this.#trackFail[0]
  }

  /** Outcomes in the whole span ending at `now`. */
  total(now: number): number {
    this.#advance(now)
    return this.#trackOk[0] + this.#trackFail[0]
  }

  /**
   * Outcomes in the last `windowMs` (at most the span) that were recorded after `sinceMs`, written
   * into `out`. The bucket in which `sinceMs` falls is left out entirely, because part of it may
   * predate `since` — including outcomes recorded at the very millisecond of a transition, just
   * before it (we would rather miss up to one bucket of new outcomes than count an old one).
   * O(1) for a tracked window that `sinceMs` does not cut; otherwise O(buckets in the window).
   * Never allocates.
   */
  countSince(now: number, windowMs: number, sinceMs: number, out: WindowCounts): WindowCounts {
    this.#advance(now)
    const head = this.#head
    const n = this.buckets
    const wb = Math.min(n, Math.ceil(windowMs / this.bucketMs))
    let first = head - wb + 1
    const sinceId = Math.floor(sinceMs / this.bucketMs) + 1
    if (sinceId <= first) {
      const tracked = this.#trackBuckets
      for (let j = 0; j < tracked.length; j++) {
        if (tracked[j] === wb) {
          out.successes = this.#trackOk[j]
          out.failures = this.#trackFail[j]
          return out
        }
      }
    } else {
      first = sinceId
    }
    let ok = 0
    let fail = 0
    let i = this.#slot(first)
    for (let b = first; b <= head; b++) {
      ok += this.#ok[i]
      fail += this.#fail[i]
      if (++i === n) i = 0
    }
    out.successes = ok
    out.failures = fail
    return out
  }

  /**
   * Failure share of {@link countSince}'s outcomes, or NaN when there are fewer than `minEvents`
   * (NaN compares false with every threshold, so a rule without enough evidence never fires).
   */
  shareSince(now: number, windowMs: number, sinceMs: number, minEvents: number): number {
    const c = this.countSince(now, windowMs, sinceMs, this.#scratch)
    const n = c.successes + c.failures
    return n === 0 || n < minEvents ? Number.NaN : c.failures / n
  }

  /** Forget every outcome (the head stays where it is). */
  reset(): void {
    this.#ok.fill(0)
    this.#fail.fill(0)
    this.#trackOk.fill(0)
    this.#trackFail.fill(0)
  }

  #slot(bucket: number): number {
    const n = this.buckets
    return ((bucket % n) + n) % n
  }

  /**
   * Move the head to `now`'s bucket. For each bucket entered, every tracked window loses the bucket
   * that now falls out of it (still intact in the ring: a window is never longer than the ring),
   * then the entered bucket's slot — which held the bucket one span older — is cleared.
   */
  #advance(now: number): void {
    const id = Math.floor(now / this.bucketMs)
    const head = this.#head
    if (id <= head) return
    if (id - head >= this.buckets) {
      this.reset()
    } else {
      const tracked = this.#trackBuckets
      for (let b = head + 1; b <= id; b++) {
        for (let j = 0; j < tracked.length; j++) {
          const leaving = this.#slot(b - tracked[j])
          this.#trackOk[j] -= this.#ok[leaving]
          this.#trackFail[j] -= this.#fail[leaving]
        }
        const i = this.#slot(b)
        this.#ok[i] = 0
        this.#fail[i] = 0
      }
    }
    this.#head = id
  }
}
