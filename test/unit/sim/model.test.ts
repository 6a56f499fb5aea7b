import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { runModel } from '../../../src/sim/model.js'
import type { SimForecastRequest } from '../../../src/sim/validate.js'

const quantileSets = fc
  .uniqueArray(fc.integer({ min: 1, max: 999 }), { minLength: 1, maxLength: 9 })
  .map((xs) => xs.sort((a, b) => a - b).map((x) => x / 1000))

const requests: fc.Arbitrary<SimForecastRequest> = fc.record({
  model: fc.constant('mock'),
  horizon: fc.integer({ min: 1, max: 48 }),
  quantiles: quantileSets,
  stream: fc.boolean(),
  series: fc.array(
    fc.record({
      id: fc.string({ minLength: 1 }),
      freq: fc.constantFrom('5min', '1h', 'auto', 'D'),
      timestamps: fc.constant(['2026-02-20T00:00:00Z', '2026-02-20T00:05:00Z']),
      target: fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 2, maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
})

describe('the deterministic model', () => {
  it('repeats the last value, with ordered bands that widen with the step', () => {
    fc.assert(
      fc.property(requests, fc.double({ min: 0, max: 3, noNaN: true }), (req, spread) => {
        const result = runModel(req, spread)
        if (!result.ok) return false
        expect(result.forecasts).toHaveLength(req.series.length)
        result.forecasts.forEach((f, i) => {
          const last = req.series[i]?.target.at(-1) as number
          expect(f.id).toBe(req.series[i]?.id)
          expect(f.mean).toEqual(new Array(req.horizon).fill(last))
          const paths = req.quantiles.map((q) => f.quantiles?.[String(q)] as number[])
          for (const path of paths) expect(path).toHaveLength(req.horizon)
          for (let h = 0; h < req.horizon; h++) {
            for (let k = 1; k < paths.length; k++) expect((paths[k] as number[])[h]).toBeGreaterThanOrEqual((paths[k - 1] as number[])[h] as number)
            if (h > 0) {
              for (const path of paths) expect(Math.abs((path[h] as number) - last)).toBeGreaterThanOrEqual(Math.abs((path[h - 1] as number) - last) - 1e-12)
            }
          }
        })
        return true
      }),
      { numRuns: 200 },
    )
  })

  it('puts the median exactly on the last value', () => {
    const r = runModel(
      { model: 'm', horizon: 3, quantiles: [0.5], stream: false, series: [{ id: 'a', freq: '5min', timestamps: ['2026-01-01T00:00:00Z'], target: [0.37] }] },
      2,
    )
    expect(r.ok && r.forecasts[0]?.quantiles?.['0.5']).toEqual([0.37, 0.37, 0.37])
  })

  it('reaches spread·z(q) at the horizon', () => {
    const r = runModel(
      { model: 'm', horizon: 4, quantiles: [0.975], stream: false, series: [{ id: 'a', freq: '5min', timestamps: ['2026-01-01T00:00:00Z'], target: [0] }] },
      0.5,
    )
    expect(r.ok && r.forecasts[0]?.quantiles?.['0.975']?.[3]).toBeCloseTo(0.5 * 1.959963984540054, 8)
  })

  it('names the series whose last timestamp cannot be read', () => {
    const r = runModel(
      { model: 'm', horizon: 1, quantiles: [], stream: false, series: [{ id: 'x', freq: '5min', timestamps: ['soon'], target: [1] }] },
      0.5,
    )
    expect(r).toEqual({ ok: false, detail: "series 'x': invalid timestamp 'soon'" })
  })
})
