import { describe, expect, it } from 'vitest'
import { normalQuantile } from '../../../workers/normal.js'

/**
 * Reference values: Φ⁻¹(p) of the double p, by bisection on erfc at 80 digits (mpmath), rounded
 * to the nearest double. AS241 is accurate to about 1e-16, i.e. within a few ulps of these.
 */
const REFERENCE: readonly (readonly [number, number])[] = [
  [0.975, 1.9599639845400538],
  [0.025, -1.9599639845400543],
  [0.01, -2.326347874040841],
  [0.99, 2.3263478740408408],
  [0.25, -0.6744897501960817],
  [0.75, 0.6744897501960817],
  [0.05, -1.6448536269514726],
  [0.95, 1.6448536269514722],
  [0.001, -3.0902323061678136],
  [0.999, 3.090232306167813],
  [1e-5, -4.264890793922825],
  [1e-10, -6.361340902404057],
  [1e-20, -9.262340089798407],
  [1e-50, -14.933337534788489],
  [1e-100, -21.273453560965326],
  [1e-300, -37.0470962993612],
  [0.925, 1.4395314709384561],
  [0.075, -1.439531470938456],
  [0.500000001, 2.5066282037387115e-9],
]

describe('normalQuantile (AS241)', () => {
  it('gives z(0.9) = 1.2815515655446008 exactly, as the spec states', () => {
    expect(normalQuantile(0.9)).toBe(1.2815515655446008)
    expect(normalQuantile(0.1)).toBe(-1.2815515655446008)
  })

  it('gives exactly 0 at the median', () => {
    expect(normalQuantile(0.5)).toBe(0)
  })

  it.each(REFERENCE)('agrees with the 80-digit reference at p = %s to within 1e-15 relative', (p, z) => {
    const got = normalQuantile(p)
    expect(Math.abs(got - z) / Math.abs(z)).toBeLessThan(1e-15)
  })

  it('is antisymmetric: z(1 − p) = −z(p) in every region', () => {
    for (const p of [0.3, 0.1, 0.01, 1e-6]) expect(normalQuantile(1 - p)).toBeCloseTo(-normalQuantile(p), 9)
  })

  it('is strictly increasing across the region boundaries', () => {
    const ps = [1e-300, 1e-20, 0.0001, 0.0124, 0.075, 0.0751, 0.2, 0.5, 0.8, 0.925, 0.9249, 0.99, 0.9999999]
    const sorted = [...ps].sort((a, b) => a - b)
    const zs = sorted.map(normalQuantile)
    for (let i = 1; i < zs.length; i++) expect(zs[i]).toBeGreaterThan(zs[i - 1] as number)
  })

  it('answers out-of-range p with infinities or NaN instead of throwing', () => {
    expect(normalQuantile(0)).toBe(-Infinity)
    expect(normalQuantile(-1)).toBe(-Infinity)
    expect(normalQuantile(1)).toBe(Infinity)
    expect(normalQuantile(2)).toBe(Infinity)
    expect(normalQuantile(Number.NaN)).toBeNaN()
  })
})
