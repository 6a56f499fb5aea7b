/**
 * Realised coverage and mean width of the served bands over each segment's last `window`
 * outcomes, for the `tsfm_conformal_coverage` / `tsfm_conformal_width` gauges (read at scrape
 * time). Per segment a ring of hit flags and widths with running sums; the width sum is
 * re-added from the ring each time it wraps, so float drift cannot build up (O(1) amortised).
 * At most `maxSegments` keys besides the default (null) are tracked; outcomes of further keys
 * are counted under the default and in `overflowed`.
 */

export interface CoverageReading {
  readonly segment: string | null
  /** Share of the window's outcomes inside their served band. */
  readonly coverage: number
  /** Mean of the window's served `high − low`. */
  readonly meanWidth: number
  /** Outcomes in the window (≤ window). */
  readonly count: number
}

export interface CoverageWindowOptions {
  readonly window: number
  readonly maxSegments: number
}

export const COVERAGE_WINDOW_DEFAULTS: CoverageWindowOptions = Object.freeze({ window: 500, maxSegments: 256 })

class SegmentWindow {
  readonly hits: Uint8Array
  readonly widths: Float64Array
  next = 0
  count = 0
  hitSum = 0
  widthSum = 0

  constructor(window: number) {
    this.hits = new Uint8Array(window)
    this.widths = new Float64Array(window)
  }

  add(hit: boolean, width: number): void {
    const i = this.next
    const n = this.hits.length
    if (this.count === n) {
      this.hitSum -= this.hits[i] as number
      this.widthSum -= this.widths[i] as number
    } else {
      this.count++
    }
    this.hits[i] = hit ? 1 : 0
    this.widths[i] = width
    this.hitSum += hit ? 1 : 0
    this.widthSum += width
    this.next = i + 1 === n ? 0 : i + 1
    if (this.next === 0) {
      let s = 0
      for (let k = 0; k < n; k++) s += this.widths[k] as number
      this.widthSum = s
    }
  }
}

export class CoverageWindow {
  readonly window: number
  readonly maxSegments: number
  readonly #default: SegmentWindow
  readonly #segments = new Map<string, SegmentWindow>()
  #overflowed = 0

  constructor(options: Partial<CoverageWindowOptions> = {}) {
    const o = { ...COVERAGE_WINDOW_DEFAULTS, ...options }
    if (!Number.isInteger(o.window) || o.window < 1) throw new RangeError(`CoverageWindow window should be an integer ≥ 1, got ${o.window}`)
    if (!Number.isInteger(o.maxSegments) || o.maxSegments < 0) throw new RangeError(`CoverageWindow maxSegments should be an integer ≥ 0, got ${o.maxSegments}`)
    this.window = o.window
    this.maxSegments = o.maxSegments
    this.#default = new SegmentWindow(o.window)
  }

  /** Outcomes of keys beyond `maxSegments`, counted under the default instead. */
  get overflowed(): number {
    return this.#overflowed
  }

  /** One outcome: the served band `[low, high]` and the realised value. */
  add(segmentKey: string | null, low: number, high: number, realized: number): void {
    this.#window(segmentKey).add(realized >= low && realized <= high, high - low)
  }

  /** Share covered over the segment's window; NaN before its first outcome. */
  coverage(segmentKey: string | null): number {
    const w = this.#read(segmentKey)
    return w === undefined || w.count === 0 ? Number.NaN : w.hitSum / w.count
  }

  /** Mean served width over the segment's window; NaN before its first outcome. */
  meanWidth(segmentKey: string | null): number {
    const w = this.#read(segmentKey)
    return w === undefined || w.count === 0 ? Number.NaN : w.widthSum / w.count
  }

  count(segmentKey: string | null): number {
    return this.#read(segmentKey)?.count ?? 0
  }

  /** Every segment with at least one outcome, the default (null) first. For scrapes. */
  readings(): CoverageReading[] {
    const out: CoverageReading[] = []
    const push = (segment: string | null, w: SegmentWindow): void => {
      if (w.count > 0) out.push({ segment, coverage: w.hitSum / w.count, meanWidth: w.widthSum / w.count, count: w.count })
    }
    push(null, this.#default)
    for (const [k, w] of this.#segments) push(k, w)
    return out
  }

  #read(segmentKey: string | null): SegmentWindow | undefined {
    return segmentKey === null ? this.#default : this.#segments.get(segmentKey)
  }

  #window(segmentKey: string | null): SegmentWindow {
    if (segmentKey === null) return this.#default
    let w = this.#segments.get(segmentKey)
    if (w === undefined) {
      if (this.#segments.size >= this.maxSegments) {
        this.#overflowed++
        return this.#default
      }
      w = new SegmentWindow(this.window)
      this.#segments.set(segmentKey, w)
    }
    return w
  }
}
