import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conformalQuantileLevel, selectKth, windowQuantile } from '../../../src/conformal/window-quantile.js'
import { pythonQuantile } from '../../helpers/conformal-fit.js'

const values = fc.array(fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 600 })

describe('windowQuantile', () => {
  it('interpolates between neighbouring order statistics as the Python service does', () => {
    expect(windowQuantile(Float64Array.of(4, 1, 3, 2), 4, 0.5)).toBe(2.5)
    expect(windowQuantile(Float64Array.of(4, 1, 3, 2), 4, 0.8)).toBeCloseTo(3.4, 12)
    expect(windowQuantile(Float64Array.of(5, 1, 3), 3, 0.5)).toBe(3)
  })

  it('takes the minimum at q ≤ 0 and the maximum at q ≥ 1', () => {
    expect(windowQuantile(Float64Array.of(2, -1, 7), 3, 0)).toBe(-1)
    expect(windowQuantile(Float64Array.of(2, -1, 7), 3, 1)).toBe(7)
  })

  it('reads only the first n values', () => {
    expect(windowQuantile(Float64Array.of(3, 1, 2, 100, 100), 3, 1)).toBe(3)
  })

  it('equals the sort-based quantile bit for bit on any window and level', () => {
    fc.assert(
      fc.property(values, fc.double({ min: -0.1, max: 1.1, noNaN: true }), (vs, q) => {
        expect(windowQuantile(Float64Array.from(vs), vs.length, q)).toBe(pythonQuantile(vs, q))
      }),
      { numRuns: 500 },
    )
  })

  it('stays correct on sorted, reversed and constant windows (a ring filled in order)', () => {
    const n = 500
    for (const make of [(i: number) => i, (i: number) => n - i, () => 1, (i: number) => i % 2]) {
      const vs = Array.from({ length: n }, (_, i) => make(i))
      for (const q of [0.1, 0.5, 0.802, 0.99]) expect(windowQuantile(Float64Array.from(vs), n, q)).toBe(pythonQuantile(vs, q))
    }
  })
})

describe('selectKth', () => {
  it('puts the k-th smallest at k with nothing larger before it and nothing smaller after', () => {
    fc.assert(
      fc.property(values.chain((vs) => fc.tuple(fc.constant(vs), fc.integer({ min: 0, max: vs.length - 1 }))), ([vs, k]) => {
        const a = Float64Array.from(vs)
        selectKth(a, a.length, k)
        expect(a[k]).toBe([...vs].sort((x, y) => x - y)[k])
        for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(a[k] as number)
        for (let i = k + 1; i < a.length; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k] as number)
      }),
    )
  })
})

describe('conformalQuantileLevel', () => {
  it('is ceil((n + 1)·coverage)/n clipped to [0, 1]', () => {
    expect(conformalQuantileLevel(500, 0.8)).toBe(401 / 500)
    expect(conformalQuantileLevel(10, 0.95)).toBe(1)
    expect(conformalQuantileLevel(100, 0)).toBe(0)
  })
})
