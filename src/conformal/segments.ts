import type { ConformalAdjustment } from './adjustment.js'
import { fitAdjustment, type CalibrationBand } from './fit.js'

/**
 * Per-segment fitting. A segment key is `field=value` for each segment field in the order given,
 * joined by `|` (`liquidity_bucket=high|tte_bucket=0_24h`): the key format the daemon matches
 * requests against (`segmentCandidates`, src/supervisor/routing.ts), where a missing or empty
 * value reads `unknown`.
 */

export const UNKNOWN_SEGMENT_VALUE = 'unknown'

/** A calibration pair with its segment key ('' when fitting without segments). */
export interface CalibrationPair extends CalibrationBand {
  readonly segment: string
}

export function segmentKey(fields: readonly string[], values: Readonly<Record<string, string | undefined>>): string {
  return fields.map((f) => `${f}=${values[f] || UNKNOWN_SEGMENT_VALUE}`).join('|')
}

export interface SegmentedFit {
  /** Fitted on every pair: what a request outside the fitted segments gets. */
  readonly default: ConformalAdjustment
  readonly segments: ReadonlyMap<string, ConformalAdjustment>
  /** Segment key → pairs, for the segments left out for having fewer than `minSamples`. */
  readonly skipped: ReadonlyMap<string, number>
}

/**
 * The default adjustment on all pairs, and one per segment that has at least `minSamples` pairs
 * (a smaller one would give a noisy quantile; serving falls back to the default for it).
 */
export function fitSegmented(pairs: readonly CalibrationPair[], targetCoverage: number, minSamples: number, segmentFields: readonly string[]): SegmentedFit {
  const def = fitAdjustment(pairs, targetCoverage)
  const segments = new Map<string, ConformalAdjustment>()
  const skipped = new Map<string, number>()
  if (segmentFields.length === 0) return { default: def, segments, skipped }
  const groups = new Map<string, CalibrationPair[]>()
  for (const p of pairs) {
    const group = groups.get(p.segment)
    if (group === undefined) groups.set(p.segment, [p])
    else group.push(p)
  }
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!
    if (group.length < minSamples) skipped.set(key, group.length)
    else segments.set(key, fitAdjustment(group, targetCoverage))
  }
  return { default: def, segments, skipped }
}
