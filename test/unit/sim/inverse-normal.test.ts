import { describe, expect, it } from 'vitest'
import { inverseNormal } from '../../../src/sim/inverse-normal.js'

describe('inverseNormal', () => {
  // Reference values of Φ⁻¹ (scipy.stats.norm.ppf).
  it.each([
    [0.5, 0],
    [0.9, 1.2815515655446004],
    [0.1, -1.2815515655446004],
    [0.975, 1.959963984540054],
    [0.01, -2.3263478740408408],
    [0.001, -3.090232306167813],
    [0.999999, 4.753424308822899],
  ])('gives z(%s) = %s within 1e-8', (p, z) => {
    expect(Math.abs(inverseNormal(p) - z)).toBeLessThan(1e-8)
  })

  it('is exactly 0 at the median', () => {
    expect(inverseNormal(0.5)).toBe(0)
  })

  it.each([0, 1, -0.1, 1.5, Number.NaN])('is NaN outside (0, 1): %s', (p) => {
    expect(inverseNormal(p)).toBeNaN()
  })

  it('increases with p', () => {
    let prev = -Infinity
    for (let i = 1; i < 1000; i++) {
      const z = inverseNormal(i / 1000)
      expect(z).toBeGreaterThan(prev)
      prev = z
    }
  })
})
