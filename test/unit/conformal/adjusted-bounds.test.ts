import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { adjustedHigh, adjustedLow } from '../../../src/conformal/adjusted-bounds.js'
import { adjustBand } from '../../../src/conformal/adjustment.js'

describe('adjustedLow / adjustedHigh', () => {
  it('agree with adjustBand’s q10 / q90 to the bit, crossed bands and missing centres included', () => {
    const p = fc.double({ min: -0.2, max: 1.2, noNaN: true })
    fc.assert(
      fc.property(p, fc.option(p), p, fc.double({ min: -0.3, max: 0.3, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }), (low, center, high, shift, scale) => {
        const adj = { target_coverage: 0.8, quantile_level: 0.8, center_shift: shift, width_scale: scale, sample_size: 1 }
        const band = adjustBand(low, center, high, adj)
        expect(adjustedLow(low, center, high, adj)).toBe(band.q10)
        expect(adjustedHigh(low, center, high, adj)).toBe(band.q90)
      }),
    )
  })

  it('give the raw band, uncrossed, when no adjustment was applied', () => {
    expect([adjustedLow(0.6, null, 0.4, null), adjustedHigh(0.6, null, 0.4, null)]).toEqual([0.4, 0.6])
  })
})
