/**
 * Post-processing warnings as a bitmask: a job reports each kind at most once, however many steps
 * it touched (SPEC §6: "one warning per kind per response, not per step"). A number crosses the
 * thread boundary for free; names are produced only when an answer is built.
 */

export const WARN_QUANTILE_CROSSING_FIXED = 1
export const WARN_INTERVAL_MIN_WIDTH_ENFORCED = 2
export const WARN_INTERVAL_MAX_WIDTH_CLAMPED = 4

export type MathWarning = 'quantile_crossing_fixed' | 'interval_min_width_enforced' | 'interval_max_width_clamped'

/** In bit order, which is also the order names appear in a response. */
const NAMES: readonly MathWarning[] = ['quantile_crossing_fixed', 'interval_min_width_enforced', 'interval_max_width_clamped']

const ALL_MASKS = (1 << NAMES.length) - 1

// All eight lists are built once and frozen, so mapping a mask never allocates.
const LISTS: readonly (readonly MathWarning[])[] = Array.from({ length: ALL_MASKS + 1 }, (_, mask) =>
  Object.freeze(NAMES.filter((_name, bit) => (mask & (1 << bit)) !== 0)),
)

/** The warning names of a mask, in fixed order; bits outside the three known ones are ignored. */
export function warningNames(mask: number): readonly MathWarning[] {
  return LISTS[mask & ALL_MASKS] as readonly MathWarning[]
}
