import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ConformalAdjustment } from '../../../src/conformal/adjustment.js'
import { OnlineCalibrator } from '../../../src/conformal/online.js'
import { decodeState, encodeState, type ConformalState } from '../../../src/conformal/state-file.js'
import { fitConformal, type Sample } from '../../helpers/conformal-fit.js'
import { NormalStream } from '../../helpers/normal-stream.js'

const FILE_DEFAULT: ConformalAdjustment = Object.freeze({ target_coverage: 0.8, quantile_level: 0.802, center_shift: 0, width_scale: 1, sample_size: 500 })
const FILE_CRYPTO: ConformalAdjustment = Object.freeze({ target_coverage: 0.9, quantile_level: 0.902, center_shift: 0.01, width_scale: 1.5, sample_size: 300 })

function state(segments: Record<string, ConformalAdjustment> = { 'category=crypto': FILE_CRYPTO }): ConformalState {
  return { default: FILE_DEFAULT, segments: new Map(Object.entries(segments)), segmentFields: ['category'], updatedAt: '2026-01-01T00:00:00Z', metadata: { source: 'python' }, schemaVersion: 2 }
}

/** Outcomes of a band (c ± 0.05) whose realised values scatter with `sigma` around c + bias. */
function stream(seed: number, n: number, sigma: number, bias = 0): Sample[] {
  const rng = new NormalStream(seed)
  return Array.from({ length: n }, () => {
    const c = 0.3 + 0.4 * rng.uniform()
    return { low: c - 0.05, center: c, high: c + 0.05, y: c + bias + sigma * rng.normal() }
  })
}

function feed(cal: OnlineCalibrator, key: string | null, samples: readonly Sample[]): void {
  for (const s of samples) cal.observe(key, s.low, s.center, s.high, s.y)
}

describe('OnlineCalibrator', () => {
  it('serves the file’s adjustments, the default for a segment it does not have', () => {
    const cal = new OnlineCalibrator(state())
    expect(cal.adjustmentFor('category=crypto')).toBe(FILE_CRYPTO)
    expect(cal.adjustmentFor('category=sports')).toBe(FILE_DEFAULT)
    expect(cal.adjustmentFor(null)).toBe(FILE_DEFAULT)
  })

  it('starts the working miscoverage at 1 − the segment’s target coverage', () => {
    const cal = new OnlineCalibrator(state())
    expect([cal.alphaFor(null), cal.alphaFor('category=crypto')]).toEqual([expect.closeTo(0.2, 12), expect.closeTo(0.1, 12)])
  })

  it('lowers the working miscoverage after misses and raises it after hits (ACI)', () => {
    const cal = new OnlineCalibrator(state(), { gamma: 0.01 })
    expect(cal.observe(null, 0.4, 0.5, 0.6, 0.9)).toBe(false)
    expect(cal.alphaFor(null)).toBeCloseTo(0.2 - 0.01 * 0.8, 12)
    expect(cal.observe(null, 0.4, 0.5, 0.6, 0.55)).toBe(true)
    expect(cal.alphaFor(null)).toBeCloseTo(0.2 - 0.01 * 0.8 + 0.01 * 0.2, 12)
  })

  it('misses at rate α in the long run even when the noise keeps switching (the ACI guarantee)', () => {
    const cal = new OnlineCalibrator(state())
    let misses = 0
    for (let block = 0; block < 20; block++) {
      for (const s of stream(100 + block, 300, block % 2 === 0 ? 0.02 : 0.07)) if (!cal.observe(null, s.low, s.center, s.high, s.y)) misses++
    }
    // |miss rate − α| ≤ (α_max − α_min + γ)/(γ·T) ≈ 1.7 % for T = 6 000 (Gibbs & Candès, prop. 4.1)
    expect(Math.abs(misses / 6000 - 0.2)).toBeLessThan(0.017)
  })

  it('judges a miss against the band the current adjustment serves, not the raw one', () => {
    // crypto: shift +0.01, scale 1.5 → 0.4–0.6 is served as 0.36–0.66
    const cal = new OnlineCalibrator(state())
    expect(cal.observe('category=crypto', 0.4, 0.5, 0.6, 0.65)).toBe(true)
    expect(cal.observe('category=crypto', 0.4, 0.5, 0.6, 0.355)).toBe(false)
  })

  it('keeps the file’s adjustment object until minSamples outcomes, then learns', () => {
    const cal = new OnlineCalibrator(state(), { minSamples: 100, window: 200 })
    const samples = stream(1, 100, 0.06)
    feed(cal, null, samples.slice(0, 99))
    expect(cal.adjustmentFor(null)).toBe(FILE_DEFAULT)
    expect(cal.version).toBe(0)
    feed(cal, null, samples.slice(99))
    expect(cal.adjustmentFor(null)).not.toBe(FILE_DEFAULT)
    expect(cal.adjustmentFor(null).sample_size).toBe(100)
    expect(cal.version).toBe(1)
  })

  it('refits to its window exactly as the Python fit would, at coverage 1 − α_t', () => {
    const cal = new OnlineCalibrator(state(), { window: 50, minSamples: 50, recomputeEvery: 1, minScale: 0, maxScale: 100, maxShift: 1 })
    const samples = stream(2, 173, 0.04, 0.01)
    feed(cal, null, samples)
    const fit = fitConformal(samples.slice(-50), 1 - cal.alphaFor(null))
    expect(cal.adjustmentFor(null)).toEqual({ ...fit, target_coverage: 0.8 })
  })

  it('returns the same object between refits, and a new frozen one when a refit moves it', () => {
    const cal = new OnlineCalibrator(state(), { minSamples: 20, window: 20, recomputeEvery: 10 })
    feed(cal, null, stream(3, 20, 0.03))
    const first = cal.adjustmentFor(null)
    const v = cal.version
    feed(cal, null, stream(4, 9, 0.09))
    expect(cal.adjustmentFor(null)).toBe(first)
    feed(cal, null, stream(5, 1, 0.09))
    expect(cal.adjustmentFor(null)).not.toBe(first)
    expect(Object.isFrozen(cal.adjustmentFor(null))).toBe(true)
    expect(cal.version).toBe(v + 1)
  })

  it('widens the band when the noise grows and narrows it when it shrinks', () => {
    const cal = new OnlineCalibrator(state())
    feed(cal, null, stream(6, 2000, 0.06))
    const wide = cal.adjustmentFor(null).width_scale
    feed(cal, null, stream(7, 2000, 0.015))
    const narrow = cal.adjustmentFor(null).width_scale
    // 1.28·σ/0.05 for an 80 % band: ≈ 1.54 and ≈ 0.38
    expect(wide).toBeGreaterThan(1.3)
    expect(narrow).toBeLessThan(0.5)
  })

  it('learns a bias as the centre shift', () => {
    const cal = new OnlineCalibrator(state())
    feed(cal, null, stream(8, 1000, 0.03, 0.04))
    expect(cal.adjustmentFor(null).center_shift).toBeCloseTo(0.04, 2)
  })

  it('keeps the learned scale, shift and working level within their bounds whatever the outcomes', () => {
    const bounds = { minScale: 0.5, maxScale: 3, maxShift: 0.05, alphaMin: 0.05, alphaMax: 0.5 }
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: -0.5, max: 1.5, noNaN: true })), { minLength: 1, maxLength: 400 }), (outcomes) => {
        const cal = new OnlineCalibrator(state(), { ...bounds, window: 40, minSamples: 10, recomputeEvery: 3, gamma: 0.2 })
        for (const [c, h, y] of outcomes) {
          cal.observe(null, c - h, c, c + h, y)
          const a = cal.adjustmentFor(null)
          if (a !== FILE_DEFAULT) {
            expect(a.width_scale).toBeGreaterThanOrEqual(0.5)
            expect(a.width_scale).toBeLessThanOrEqual(3)
            expect(Math.abs(a.center_shift)).toBeLessThanOrEqual(0.05)
          }
          expect(cal.alphaFor(null)).toBeGreaterThanOrEqual(0.05)
          expect(cal.alphaFor(null)).toBeLessThanOrEqual(0.5)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('updates the default with outcomes of a segment it does not have', () => {
    const cal = new OnlineCalibrator(state(), { minSamples: 10, window: 10 })
    feed(cal, 'category=sports', stream(9, 10, 0.05))
    expect(cal.adjustmentFor(null)).not.toBe(FILE_DEFAULT)
    expect(cal.adjustmentFor('category=sports')).toBe(cal.adjustmentFor(null))
    expect(cal.adjustmentFor('category=crypto')).toBe(FILE_CRYPTO)
  })

  it('gives an allowed new segment its own learner, seeded from the default, up to maxCreatedSegments', () => {
    const cal = new OnlineCalibrator(state(), { minSamples: 10, window: 10, createSegments: ['category=sports', 'category=politics'], maxCreatedSegments: 1 })
    feed(cal, 'category=sports', stream(10, 10, 0.05))
    feed(cal, 'category=politics', stream(11, 10, 0.05))
    expect(cal.adjustmentFor('category=sports')).not.toBe(cal.adjustmentFor(null))
    expect(cal.adjustmentFor(null)).not.toBe(FILE_DEFAULT) // politics found no room: it updated the default
    expect([...cal.snapshot().segments.keys()].sort()).toEqual(['category=crypto', 'category=sports'])
  })

  it('picks the most specific candidate that has or may get its own adjustment', () => {
    const cal = new OnlineCalibrator(state(), { createSegments: ['liquidity_bucket=high'] })
    expect(cal.segmentFor(['category=crypto|liquidity_bucket=high', 'category=crypto', 'liquidity_bucket=high'])).toBe('category=crypto')
    expect(cal.segmentFor(['category=sports', 'liquidity_bucket=high'])).toBe('liquidity_bucket=high')
    expect(cal.segmentFor(['category=sports'])).toBeNull()
  })

  it('ignores an outcome with a value that is not finite, and counts it', () => {
    const cal = new OnlineCalibrator(state())
    expect(cal.observe(null, 0.4, 0.5, 0.6, Number.NaN)).toBe(false)
    expect(cal.observe(null, 0.4, Number.POSITIVE_INFINITY, 0.6, 0.5)).toBe(false)
    expect([cal.rejected, cal.observed, cal.alphaFor(null)]).toEqual([2, 0, expect.closeTo(0.2, 12)])
  })

  it('snapshots what it learned in the state file format, so a restart starts from it', () => {
    const cal = new OnlineCalibrator(state(), { minSamples: 50, window: 100 })
    feed(cal, null, stream(12, 300, 0.06))
    feed(cal, 'category=crypto', stream(13, 300, 0.02))
    const snap = cal.snapshot()
    const reloaded = decodeState(JSON.parse(encodeState(snap, '2026-02-01T00:00:00Z')))
    expect(reloaded.default).toEqual(cal.adjustmentFor(null))
    expect(reloaded.segments.get('category=crypto')).toEqual(cal.adjustmentFor('category=crypto'))
    expect(reloaded.metadata).toMatchObject({ source: 'python', online_calibration: { method: 'aci', observed_since_start: 600 } })
    const restarted = new OnlineCalibrator(reloaded)
    expect(restarted.adjustmentFor('category=crypto')).toEqual(cal.adjustmentFor('category=crypto'))
  })

  it('rejects knobs out of range, naming them', () => {
    expect(() => new OnlineCalibrator(state(), { gamma: 0 })).toThrow('online conformal gamma should be in (0, 1), got 0')
    expect(() => new OnlineCalibrator(state(), { window: 100, minSamples: 200 })).toThrow('online conformal minSamples should be an integer in [1, window=100], got 200')
    expect(() => new OnlineCalibrator(state(), { minScale: 2, maxScale: 1 })).toThrow('online conformal scale bounds should satisfy 0 ≤ minScale ≤ maxScale < ∞, got 2..1')
  })
})
