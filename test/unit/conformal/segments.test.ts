import { describe, expect, it } from 'vitest'
import { fitAdjustment } from '../../../src/conformal/fit.js'
import { fitSegmented, segmentKey, type CalibrationPair } from '../../../src/conformal/segments.js'
import { segmentCandidates } from '../../../src/supervisor/routing.js'

function pairs(segment: string, n: number, spread: number): CalibrationPair[] {
  return Array.from({ length: n }, (_, i) => ({ low: 0.4, median: 0.5, high: 0.6, actual: 0.5 + spread * ((i % 5) - 2), segment }))
}

describe('segmentKey', () => {
  it('is field=value in the order given, joined by |, with unknown for a missing or empty value', () => {
    expect(segmentKey(['liquidity_bucket', 'tte_bucket'], { liquidity_bucket: 'high', tte_bucket: '0_24h' })).toBe('liquidity_bucket=high|tte_bucket=0_24h')
    expect(segmentKey(['tte_bucket', 'liquidity_bucket'], { liquidity_bucket: '' })).toBe('tte_bucket=unknown|liquidity_bucket=unknown')
    expect(segmentKey([], { liquidity_bucket: 'high' })).toBe('')
  })

  it('is one of the keys the daemon matches a request with those fields against', () => {
    const key = segmentKey(['liquidity_bucket', 'tte_bucket'], { liquidity_bucket: 'low', tte_bucket: '1_7d' })
    expect(segmentCandidates({ category: 'politics', liquidity_bucket: 'low', tte_bucket: '1_7d' })).toContain(key)
    expect(segmentCandidates({ category: 'politics', liquidity_bucket: '', tte_bucket: '1_7d' })).toContain(segmentKey(['liquidity_bucket', 'tte_bucket'], { tte_bucket: '1_7d' }))
  })
})

describe('fitSegmented', () => {
  const all = [...pairs('s=a', 120, 0.01), ...pairs('s=b', 99, 0.05), ...pairs('s=c', 100, 0.1)]

  it('fits the default on every pair and a segment only when it has at least min-samples pairs', () => {
    const fit = fitSegmented(all, 0.9, 100, ['s'])
    expect(fit.default).toEqual(fitAdjustment(all, 0.9))
    expect([...fit.segments.keys()]).toEqual(['s=a', 's=c'])
    expect(fit.segments.get('s=a')).toEqual(fitAdjustment(all.slice(0, 120), 0.9))
    expect(fit.segments.get('s=c')!.width_scale).toBeGreaterThan(fit.segments.get('s=a')!.width_scale)
    expect([...fit.skipped]).toEqual([['s=b', 99]])
  })

  it('fits no segments without segment fields', () => {
    const fit = fitSegmented(all, 0.9, 1, [])
    expect(fit.segments.size).toBe(0)
    expect(fit.skipped.size).toBe(0)
  })
})
