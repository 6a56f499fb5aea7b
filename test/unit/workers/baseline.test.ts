import { describe, expect, it } from 'vitest'
import type { BaselineMethod, TransformSpace } from '../../../src/config/types.js'
import { baselineInto } from '../../../workers/baseline.js'
import { ewmaFit } from '../../../workers/ewma.js'
import { STATUS_NON_FINITE_INPUT, STATUS_NON_FINITE_OUTPUT } from '../../../workers/protocol.js'
import { empiricalQuantile } from '../../../workers/rolling-quantile.js'
import { logit, sigmoid } from '../../../workers/transforms.js'
import { warningNames } from '../../../workers/warnings.js'

const Z90 = 1.2815515655446008
const Q3 = [0.1, 0.5, 0.9]

interface Run {
  status: number
  rows: number[][]
}

function band(
  y: readonly number[],
  method: BaselineMethod,
  space: TransformSpace,
  horizon: number,
  opts: { min?: number; max?: number; alpha?: number; window?: number; quantiles?: readonly number[] } = {},
): Run {
  const quantiles = opts.quantiles ?? Q3
  const out = new Float64Array(quantiles.length * horizon)
  const status = baselineInto(
    new Float64Array(y),
    method,
    space,
    1e-6,
    opts.alpha ?? 0.2,
    opts.window ?? 64,
    quantiles,
    horizon,
    opts.min ?? 0.02,
    opts.max ?? 1,
    out,
  )
  const rows = quantiles.map((_, q) => Array.from(out.subarray(q * horizon, (q + 1) * horizon)))
  return { status, rows }
}

describe('EWMA baseline', () => {
  it('runs the recursion with the level before each point: level 0.5, variance 0.0625', () => {
    // α = 0.5 over 0.25, 0.75, 0.5 (exact in binary):
    //   x=0.75: e=0.5, level=0.5, var=0.5·0.25=0.125;  x=0.5: e=0, level=0.5, var=0.0625
    const state = ewmaFit(new Float64Array([0.25, 0.75, 0.5]), false, 1e-6, 0.5, new Float64Array(2))
    expect(Array.from(state)).toEqual([0.5, 0.0625])
  })

  it('fans out with sqrt(h): σ_h = sqrt(var)·sqrt(h) around the level, then clips', () => {
    const { status, rows } = band([0.25, 0.75, 0.5], 'EWMA', 'identity', 3, { alpha: 0.5 })
    expect(status).toBe(0)
    expect(rows[1]).toEqual([0.5, 0.5, 0.5])
    expect(rows[2]).toEqual([0.5 + Z90 * 0.25, 0.5 + Z90 * (0.25 * Math.SQRT2), 1])
    expect(rows[2]).toEqual([0.8203878913861502, 0.9530969012184118, 1])
    expect(rows[0]).toEqual([0.1796121086138498, 0.046903098781588215, 0])
  })

  it('works in logit space and answers probabilities', () => {
    const y = [0.3, 0.4, 0.35, 0.45, 0.5]
    const { status, rows } = band(y, 'EWMA', 'logit', 2, { max: 0.6 })
    expect(status).toBe(0)
    const state = ewmaFit(new Float64Array(y), true, 1e-6, 0.2, new Float64Array(2))
    expect(rows[1]).toEqual([sigmoid(state[0] as number), sigmoid(state[0] as number)])
    expect(rows[2]?.[0]).toBe(sigmoid((state[0] as number) + Z90 * Math.sqrt(state[1] as number)))
    expect(rows[0]).toEqual([0.27112887732458546, 0.23300022556021446])
  })

  it('floors the variance at eps, so a flat series still gets a (guarded) band', () => {
    const { rows } = band([0.5, 0.5, 0.5], 'EWMA', 'logit', 1, { min: 0 })
    // σ = sqrt(1e-6) = 0.001 in logit space
    expect(rows[2]).toEqual([sigmoid(Z90 * 0.001)])
    expect(rows[0]).toEqual([sigmoid(-Z90 * 0.001)])
  })

  it('centres a one-point series on the point as a probability, at the minimum width', () => {
    const { status, rows } = band([0.002], 'EWMA', 'logit', 2, { max: 0.6 })
    expect(rows).toEqual([
      [0, 0],
      [0.002, 0.002],
      [0.02, 0.02],
    ])
    expect(warningNames(status)).toEqual(['interval_min_width_enforced'])
  })

  it('centres an empty series on 0.5, not on logit 0 of nothing', () => {
    const { rows } = band([], 'EWMA', 'logit', 1)
    expect(rows).toEqual([[0.49], [0.5], [0.51]])
  })

  it('refuses a non-finite point', () => {
    expect(band([0.5, Number.NaN, 0.4], 'EWMA', 'logit', 1).status).toBe(STATUS_NON_FINITE_INPUT)
  })

  it('reports an overflowing fit (identity space near ±1e200) instead of a clipped band', () => {
    expect(band([1e200, -1e200, 1e200], 'EWMA', 'identity', 2).status).toBe(STATUS_NON_FINITE_OUTPUT)
  })

  it('uses the clamped logit of 0 and 1', () => {
    const state = ewmaFit(new Float64Array([0, 1]), true, 1e-6, 0.2, new Float64Array(2))
    expect(state[0]).toBe(0.2 * logit(1, 1e-6) + 0.8 * logit(0, 1e-6))
  })
})

describe('KALMAN baseline', () => {
  it('follows a steady walk exactly (no observation noise) with a sqrt(h) fan', () => {
    // changes of 0.125 each: γ0 = γ1 = 1/64 → R = 0, Q = 1/64, so the level is the last point
    const { status, rows } = band([0, 0.125, 0.25, 0.375, 0.5], 'KALMAN', 'identity', 4)
    expect(status).toBe(0)
    expect(rows[1]).toEqual([0.5, 0.5, 0.5, 0.5])
    expect(rows[2]?.[0]).toBe(0.5 + Z90 * 0.125)
    expect(rows[2]?.[3]).toBe(0.5 + Z90 * 0.25)
  })

  it('filters a bouncing series to its mid level', () => {
    const bouncing = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 0.5 : 0.6))
    const { rows } = band(bouncing, 'KALMAN', 'identity', 2)
    expect(rows[1]?.[0]).toBeCloseTo(0.55, 3)
    expect(rows[1]?.[0]).toBe(0.550024957585276)
  })
})

describe('ROLLING_QUANTILE baseline', () => {
  it('takes type-7 empirical quantiles', () => {
    const sorted = new Float64Array([-0.125, 0, 0.125, 0.25])
    expect(empiricalQuantile(sorted, 0.5)).toBe(0.0625)
    expect(empiricalQuantile(sorted, 0)).toBe(-0.125)
    expect(empiricalQuantile(sorted, 1)).toBe(0.25)
    expect(empiricalQuantile(sorted, 0.1)).toBeCloseTo(-0.0875, 15)
  })

  it('moves the last value by the quantiles of the recent changes, widening with sqrt(h)', () => {
    // changes −0.125, 0, 0.125, 0.25; last 0.5
    const { status, rows } = band([0.25, 0.125, 0.125, 0.25, 0.5], 'ROLLING_QUANTILE', 'identity', 4)
    expect(status).toBe(0)
    expect(rows[1]?.[0]).toBe(0.5625)
    expect(rows[1]?.[3]).toBe(0.625)
    expect(rows[0]?.[0]).toBeCloseTo(0.4125, 15)
    expect(rows[2]?.[3]).toBeCloseTo(0.925, 15)
  })

  it('looks only at the last `window` points', () => {
    // window 3: points 0.125, 0.25, 0.5 → changes 0.125, 0.25
    const { rows } = band([0.25, 0.125, 0.125, 0.25, 0.5], 'ROLLING_QUANTILE', 'identity', 1, { window: 3 })
    expect(rows.map((r) => r[0])).toEqual([0.6375, 0.6875, 0.7375])
  })

  it('gives a flat market the minimum width', () => {
    const { status, rows } = band([0.5, 0.5, 0.5, 0.5], 'ROLLING_QUANTILE', 'identity', 1)
    expect(rows).toEqual([[0.49], [0.5], [0.51]])
    expect(warningNames(status)).toEqual(['interval_min_width_enforced'])
  })
})
