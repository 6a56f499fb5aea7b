import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { adjustBand, type ConformalAdjustment } from '../../../src/conformal/adjustment.js'
import { conformalQuantileLevel, empiricalQuantile, fitAdjustment, type CalibrationBand } from '../../../src/conformal/fit.js'
import { packageRoot } from '../../../src/paths.js'

function band(low: number, median: number | null, high: number, actual: number): CalibrationBand {
  return { low, median, high, actual }
}

describe('empiricalQuantile (the Python service’s _empirical_quantile)', () => {
  it('interpolates linearly between the order statistics around rank (n − 1)·q', () => {
    // By hand: sorted [1, 1.5, 3, 4, 9], rank 4·0.3 = 1.2, so 1.5·0.8 + 3·0.2 = 1.8 (Python: 1.8).
    expect(empiricalQuantile([3, 1, 4, 1.5, 9], 0.3)).toBe(1.8)
    // Rank 3·0.5 = 1.5: 0.2·0.5 + 0.3·0.5 (Python: 0.25).
    expect(empiricalQuantile([0.4, 0.1, 0.3, 0.2], 0.5)).toBe(0.25)
  })

  it('returns the order statistic itself when the rank is whole', () => {
    expect(empiricalQuantile([5, 1, 3], 0.5)).toBe(3)
    expect(empiricalQuantile([7], 0.9)).toBe(7)
  })

  it('takes the minimum at q ≤ 0 and the maximum at q ≥ 1', () => {
    expect(empiricalQuantile([2, -1, 5], 0)).toBe(-1)
    expect(empiricalQuantile([2, -1, 5], -0.5)).toBe(-1)
    expect(empiricalQuantile([2, -1, 5], 1)).toBe(5)
    expect(empiricalQuantile([2, -1, 5], 1.5)).toBe(5)
  })

  it('leaves the values it is given in their order', () => {
    const values = [3, 1, 2]
    empiricalQuantile(values, 0.5)
    expect(values).toEqual([3, 1, 2])
  })

  it('refuses an empty sample, as Python does', () => {
    expect(() => empiricalQuantile([], 0.5)).toThrow(/no values/)
  })
})

describe('conformalQuantileLevel (the Python service’s _conformal_quantile_level)', () => {
  it('is ceil((n + 1)·coverage) / n, a little above the target', () => {
    // By hand: ceil(101·0.9) = ceil(90.9) = 91, over 100 → 0.91; ceil(5001·0.9) = 4501 → 0.9002.
    expect(conformalQuantileLevel(100, 0.9)).toBe(0.91)
    expect(conformalQuantileLevel(5000, 0.9)).toBe(0.9002)
    expect(conformalQuantileLevel(40, 0.8)).toBe(0.825)
  })

  it('clips to 1 when the sample is too small for the target', () => {
    // ceil(10·0.9)/9 = 9/9 and ceil(11·0.9)/10 = 10/10: both take the largest error.
    expect(conformalQuantileLevel(9, 0.9)).toBe(1)
    expect(conformalQuantileLevel(10, 0.9)).toBe(1)
    expect(conformalQuantileLevel(3, 0.5)).toBe(2 / 3)
  })

  it('refuses a sample size below 1 instead of dividing by zero', () => {
    expect(() => conformalQuantileLevel(0, 0.9)).toThrow('the sample size should be an integer ≥ 1, got 0')
  })
})

interface PythonFixture {
  readonly pairs: readonly (readonly [number, number | null, number, number])[]
  readonly cases: readonly { readonly coverage: number; readonly adjustment: ConformalAdjustment }[]
}

describe('fitAdjustment (the Python service’s fit_conformal_adjustment)', () => {
  it('agrees to the last bit with CPython on 40 pairs, crossed, zero-width and median-less ones among them, at five coverages', () => {
    const fixture = JSON.parse(readFileSync(join(packageRoot(), 'test/fixtures/conformal/python-fit.json'), 'utf8')) as PythonFixture
    const pairs = fixture.pairs.map(([lo, med, hi, a]) => band(lo, med, hi, a))
    expect(fixture.cases).toHaveLength(5)
    for (const c of fixture.cases) expect(fitAdjustment(pairs, c.coverage)).toEqual(c.adjustment)
  })

  it('fits a hand-computed example: centre shift is the median residual, width scale the conformal quantile of the errors', () => {
    // Centres 0.5, 0.4 (midpoint: no median), 0.45 (band given crossed); half-widths 0.1, 0.1, 0.2.
    // Residuals 0.05, 0.3, −0.35 → shift 0.05. Errors |0.55−0.55|/0.1 = 0, |0.7−0.45|/0.1 = 2.5,
    // |0.1−0.5|/0.2 = 2. Level ceil(4·0.9)/3 → clipped to 1 → the largest error, 2.5.
    // CPython gives 0.050000000000000044 and 2.4999999999999987 (floating point).
    const fit = fitAdjustment([band(0.4, 0.5, 0.6, 0.55), band(0.3, null, 0.5, 0.7), band(0.6, 0.45, 0.2, 0.1)], 0.9)
    expect(fit).toEqual({ target_coverage: 0.9, quantile_level: 1, center_shift: 0.050000000000000044, width_scale: 2.4999999999999987, sample_size: 3 })
  })

  it('treats a crossed band as the same band the right way round', () => {
    const straight = [band(0.2, 0.3, 0.5, 0.45), band(0.1, 0.2, 0.4, 0.05), band(0.6, 0.7, 0.9, 0.72)]
    const crossed = straight.map((b) => band(b.high, b.median, b.low, b.actual))
    expect(fitAdjustment(crossed, 0.8)).toEqual(fitAdjustment(straight, 0.8))
    expect(fitAdjustment(crossed, 0.8).width_scale).toBeGreaterThan(0)
  })

  it('centres a band without a median on its midpoint', () => {
    const withMid = [band(0.2, 0.35, 0.5, 0.45), band(0.1, 0.25, 0.4, 0.05), band(0.6, 0.75, 0.9, 0.72)]
    const without = withMid.map((b) => band(b.low, null, b.high, b.actual))
    expect(fitAdjustment(without, 0.8)).toEqual(fitAdjustment(withMid, 0.8))
    // Not the same as some other centre: a skewed median changes the fit.
    expect(fitAdjustment([band(0.2, 0.25, 0.5, 0.45), ...withMid.slice(1)], 0.8)).not.toEqual(fitAdjustment(without, 0.8))
  })

  it('measures errors of a zero-width band in half-widths of at least 1e-6, not by dividing by zero', () => {
    // Residuals 0 and 3e-6 → shift 1.5e-6; each error 1.5e-6 / 1e-6 = 1.5.
    const fit = fitAdjustment([band(0.5, null, 0.5, 0.5), band(0.5, null, 0.5, 0.500003)], 0.5)
    expect(fit.width_scale).toBeCloseTo(1.5, 6)
  })

  it('refuses a target coverage outside (0, 1], naming it and quoting the value', () => {
    const pairs = [band(0.4, 0.5, 0.6, 0.55)]
    expect(() => fitAdjustment(pairs, 0)).toThrow('target_coverage should be in (0, 1], got 0')
    expect(() => fitAdjustment(pairs, 1.5)).toThrow('target_coverage should be in (0, 1], got 1.5')
    expect(() => fitAdjustment(pairs, Number.NaN)).toThrow('target_coverage should be in (0, 1], got NaN')
    expect(fitAdjustment(pairs, 1).quantile_level).toBe(1)
  })

  it('refuses to fit on no pairs', () => {
    expect(() => fitAdjustment([], 0.9)).toThrow('at least one calibration pair is required')
  })

  it('always fits a non-negative width scale whose bands cover at least the target of their own calibration sample', () => {
    // Bands and outcomes in [0, 1] (clipping to [0, 1] then never uncovers an outcome) and
    // half-widths ≥ 5e-4: adjustBand uses the raw half-width where the fit uses ≥ 1e-6, so a
    // zero-width band would come out a point. 1e-9 absorbs the rounding of the interpolation.
    const unit = fc.double({ min: 0, max: 1, noNaN: true })
    const pair = fc.record({ a: unit, b: unit, median: fc.option(unit, { nil: null }), actual: unit }).filter((p) => Math.abs(p.a - p.b) >= 1e-3)
    let rawUndercovered = 0
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 300 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (raw, coverage) => {
        const pairs = raw.map((p) => band(p.a, p.median, p.b, p.actual))
        const fit = fitAdjustment(pairs, coverage)
        expect(fit.width_scale).toBeGreaterThanOrEqual(0)
        expect(fit.quantile_level).toBeGreaterThanOrEqual(coverage)
        let covered = 0
        let rawCovered = 0
        for (const p of pairs) {
          const adj = adjustBand(p.low, p.median, p.high, fit)
          if (adj.q10 - 1e-9 <= p.actual && p.actual <= adj.q90 + 1e-9) covered++
          if (Math.min(p.low, p.high) <= p.actual && p.actual <= Math.max(p.low, p.high)) rawCovered++
        }
        if (rawCovered < coverage * pairs.length) rawUndercovered++
        expect(covered).toBeGreaterThanOrEqual(coverage * pairs.length)
      }),
      { numRuns: 300 },
    )
    // The property had something to correct: many samples' own bands covered too little.
    expect(rawUndercovered).toBeGreaterThan(50)
  })
})
