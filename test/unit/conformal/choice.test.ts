import { describe, expect, it } from 'vitest'
import { adjustBand } from '../../../src/conformal/adjustment.js'
import { ConformalSnapshot } from '../../../src/conformal/choice.js'
import { decodeState } from '../../../src/conformal/state-file.js'

const D = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0.01, width_scale: 1.1, sample_size: 200 }
const S = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0.2, width_scale: 1.5, sample_size: 120 }
const L = { target_coverage: 0.8, quantile_level: 0.9, center_shift: -0.1, width_scale: 0.9, sample_size: 150 }

const req = (liquidity_bucket: string | null, tte_bucket: string | null, category: string | null = null) => ({ liquidity_bucket, tte_bucket, category })

describe('choosing the conformal adjustment of a request', () => {
  const snap = new ConformalSnapshot(decodeState({ default_adjustment: D, segments: { 'liquidity_bucket=high|tte_bucket=0_24h': S, 'liquidity_bucket=high': L } }), 0, 'f')

  it('takes the most specific routing candidate key the file has', () => {
    expect(snap.choose(req('high', '0_24h'))).toEqual({ loaded: true, key: 'liquidity_bucket=high|tte_bucket=0_24h', adjustment: S })
    expect(snap.choose(req('high', '1_7d'))).toEqual({ loaded: true, key: 'liquidity_bucket=high', adjustment: L })
  })

  it('falls back to the default with a null key', () => {
    expect(snap.choose(req('mid', '0_24h'))).toEqual({ loaded: true, key: null, adjustment: D })
    expect(snap.choose(req(null, null))).toEqual({ loaded: true, key: null, adjustment: D })
  })

  it('matches without regard to case and reports the key as the file writes it', () => {
    expect(snap.choose(req('High', '0_24H')).key).toBe('liquidity_bucket=high|tte_bucket=0_24h')
  })

  it('returns the same object for every request of a file without segments', () => {
    const plain = new ConformalSnapshot(decodeState({ adjustment: D }), 0, 'f')
    expect(plain.choose(req('high', '0_24h'))).toBe(plain.choose(req('low', null)))
  })
})

describe('adjusting a band', () => {
  it('swaps a crossed pair, uses the midpoint without a median, and clips to [0, 1]', () => {
    const a = adjustBand(0.6, null, 0.4, { ...D, center_shift: 0, width_scale: 2 })
    expect(a.q10).toBeCloseTo(0.3, 15)
    expect(a.q50).toBeCloseTo(0.5, 15)
    expect(a.q90).toBeCloseTo(0.7, 15)
    const clipped = adjustBand(0.9, 0.95, 0.99, { ...D, center_shift: 0.1, width_scale: 3 })
    expect(clipped.q50).toBe(1)
    expect(clipped.q90).toBe(1)
    expect(clipped.q10).toBeLessThan(1)
  })
})
