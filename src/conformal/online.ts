import type { ConformalAdjustment } from './adjustment.js'
import { onlineConfig, type OnlineCalibrationConfig } from './online-config.js'
import { SegmentLearner } from './segment-learner.js'
import type { ConformalState } from './state-file.js'

/**
 * Conformal adjustments that keep learning from realised outcomes (issue 11, part 2): one
 * SegmentLearner per segment of the loaded state file, plus the default. An outcome whose
 * segment the file does not have updates the default — unless its key is in
 * `createSegments`, which then gets its own learner, seeded from the default's adjustment (at
 * most `maxCreatedSegments` of them, so the set stays bounded). A learner's rings are
 * allocated on its first outcome, so a file with many quiet segments costs little.
 *
 * `adjustmentFor` is on the forecast path: a Map lookup returning the learner's frozen
 * adjustment, which is replaced (never mutated) at most once per `recomputeEvery` outcomes.
 * `observe` takes plain numbers and allocates nothing except on those refits.
 */
export class OnlineCalibrator {
  readonly config: OnlineCalibrationConfig
  readonly #initial: ConformalState
  readonly #default: SegmentLearner
  readonly #segments = new Map<string, SegmentLearner>()
  readonly #creatable: ReadonlySet<string>
  readonly #scratch: Float64Array
  #version = 0
  #observed = 0
  #rejected = 0
  #created = 0

  constructor(initial: ConformalState, config: Partial<OnlineCalibrationConfig> = {}) {
    this.config = onlineConfig(config)
    this.#initial = initial
    this.#default = new SegmentLearner(initial.default, this.config)
    for (const [key, adj] of initial.segments) this.#segments.set(key, new SegmentLearner(adj, this.config))
    this.#creatable = new Set(this.config.createSegments)
    this.#scratch = new Float64Array(this.config.window)
  }

  /**
   * Bumped whenever some segment's adjustment is replaced (or a segment created): persist when
   * it differs from the version last written.
   */
  get version(): number {
    return this.#version
  }

  /** Outcomes taken by `observe`. */
  get observed(): number {
    return this.#observed
  }

  /** Outcomes `observe` ignored because a value was not finite. */
  get rejected(): number {
    return this.#rejected
  }

  /** The adjustment for a segment key (exact match), the default's when it has none. */
  adjustmentFor(segmentKey: string | null): ConformalAdjustment {
    if (segmentKey === null) return this.#default.current
    const s = this.#segments.get(segmentKey)
    return s === undefined ? this.#default.current : s.current
  }

  /** The working miscoverage level α_t of the segment `adjustmentFor(segmentKey)` reads. */
  alphaFor(segmentKey: string | null): number {
    return this.#learner(segmentKey).alpha
  }

  /**
   * The first of `candidates` (most specific first, e.g. routing's `segmentCandidates`) that
   * has or may get its own adjustment, else null (the default).
   */
  segmentFor(candidates: readonly string[]): string | null {
    for (const k of candidates) if (this.#segments.has(k) || this.#creatable.has(k)) return k
    return null
  }

  /**
   * One realised outcome of a raw (pre-adjustment) last-step band. Returns whether the band
   * the segment's current adjustment makes covered `realized`; false, and counted in
   * `rejected`, when a value is not finite.
   */
  observe(segmentKey: string | null, low: number, center: number | null, high: number, realized: number): boolean {
    if (!Number.isFinite(low) || !Number.isFinite(high) || !Number.isFinite(realized) || (center !== null && !Number.isFinite(center))) {
      this.#rejected++
      return false
    }
    const learner = this.#learnerCreating(segmentKey)
    const before = learner.current
    const covered = learner.observe(low, center, high, realized, this.#scratch)
    if (learner.current !== before) this.#version++
    this.#observed++
    return covered
  }

  /** The adjustments as a state file holds them (for encodeState); segments sorted by encodeState. */
  snapshot(): ConformalState {
    const segments = new Map<string, ConformalAdjustment>()
    for (const [key, s] of this.#segments) segments.set(key, s.current)
    const c = this.config
    return Object.freeze({
      default: this.#default.current,
      segments,
      segmentFields: this.#initial.segmentFields,
      updatedAt: this.#initial.updatedAt,
      metadata: Object.freeze({
        ...this.#initial.metadata,
        online_calibration: { method: 'aci', gamma: c.gamma, window: c.window, min_samples: c.minSamples, observed_since_start: this.#observed },
      }),
      schemaVersion: segments.size > 0 ? 2 : 1,
    })
  }

  #learner(segmentKey: string | null): SegmentLearner {
    if (segmentKey === null) return this.#default
    return this.#segments.get(segmentKey) ?? this.#default
  }

  #learnerCreating(segmentKey: string | null): SegmentLearner {
    if (segmentKey === null) return this.#default
    const s = this.#segments.get(segmentKey)
    if (s !== undefined) return s
    if (!this.#creatable.has(segmentKey) || this.#created >= this.config.maxCreatedSegments) return this.#default
    const created = new SegmentLearner(this.#default.current, this.config)
    this.#segments.set(segmentKey, created)
    this.#created++
    this.#version++
    return created
  }
}
