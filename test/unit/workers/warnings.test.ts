import { describe, expect, it } from 'vitest'
import {
  WARN_INTERVAL_MAX_WIDTH_CLAMPED,
  WARN_INTERVAL_MIN_WIDTH_ENFORCED,
  WARN_QUANTILE_CROSSING_FIXED,
  warningNames,
} from '../../../workers/warnings.js'

describe('warningNames', () => {
  it('maps 0 to no warnings', () => {
    expect(warningNames(0)).toEqual([])
  })

  it('lists every set bit in fixed order: crossing, min width, max width', () => {
    expect(warningNames(WARN_INTERVAL_MAX_WIDTH_CLAMPED | WARN_QUANTILE_CROSSING_FIXED)).toEqual([
      'quantile_crossing_fixed',
      'interval_max_width_clamped',
    ])
    expect(warningNames(7)).toEqual(['quantile_crossing_fixed', 'interval_min_width_enforced', 'interval_max_width_clamped'])
    expect(warningNames(WARN_INTERVAL_MIN_WIDTH_ENFORCED)).toEqual(['interval_min_width_enforced'])
  })

  it('returns the same frozen list for the same mask (no allocation per answer)', () => {
    expect(warningNames(3)).toBe(warningNames(3))
    expect(Object.isFrozen(warningNames(3))).toBe(true)
  })

  it('ignores bits it does not know', () => {
    expect(warningNames(8 | WARN_QUANTILE_CROSSING_FIXED)).toEqual(['quantile_crossing_fixed'])
  })
})
