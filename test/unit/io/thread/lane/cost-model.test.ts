import { describe, expect, it } from 'vitest'
import { CostModel } from '../../../../../src/io/thread/lane/cost-model.js'

describe('the cost model', () => {
  it('answers its prior until it has measured anything', () => {
    const m = new CostModel(25, 1.2)
    expect(m.costMs(32)).toBeCloseTo(25 + 38.4, 9)
  })

  it("learns tollama's fixed + per-series shape from requests of several sizes", () => {
    const m = new CostModel(25, 1.2)
    for (let i = 0; i < 40; i++) for (const n of [1, 8, 32, 128]) m.observe(n, 27 + 1.3 * n)
    expect(m.fixedMs).toBeCloseTo(27, 0)
    expect(m.perSeriesMs).toBeCloseTo(1.3, 1)
    expect(m.costMs(128) / (27 + 1.3 * 128)).toBeCloseTo(1, 2)
  })

  it('finds a slope far from its prior when the sizes are spread', () => {
    const m = new CostModel(25, 1.2)
    for (let i = 0; i < 40; i++) for (const n of [1, 16, 64, 128]) m.observe(n, 60 + 0.1 * n)
    expect(m.costMs(1) / 60.1).toBeCloseTo(1, 1)
    expect(m.costMs(128) / 72.8).toBeCloseTo(1, 1)
  })

  it('keeps a uniformly slower upstream uniformly slower when every sample has one size', () => {
    const m = new CostModel(25, 1.2)
    for (let i = 0; i < 30; i++) m.observe(32, 4 * (25 + 1.2 * 32))
    expect(m.costMs(32)).toBeCloseTo(4 * (25 + 1.2 * 32), 6)
    expect(m.costMs(128) / (4 * (25 + 1.2 * 128))).toBeCloseTo(1, 6)
    for (let i = 0; i < 60; i++) m.observe(32, 25 + 1.2 * 32)
    expect(m.costMs(128) / (25 + 1.2 * 128)).toBeCloseTo(1, 1)
  })

  it('follows an upstream that slows down within a few requests', () => {
    const m = new CostModel(25, 1.2)
    for (let i = 0; i < 20; i++) m.observe(32, 25 + 1.2 * 32)
    for (let i = 0; i < 20; i++) m.observe(32, 4 * (25 + 1.2 * 32))
    expect(m.costMs(32) / (25 + 1.2 * 32)).toBeGreaterThan(3.5)
  })

  it("scales its prior's shape to the level measured when every sample has one size", () => {
    const m = new CostModel(25, 1.2)
    for (let i = 0; i < 10; i++) m.observe(1, 80)
    expect(m.costMs(1)).toBeCloseTo(80, 6)
    expect(m.perSeriesMs).toBeCloseTo((1.2 * 80) / 26.2, 6)
  })

  it('ignores impossible samples', () => {
    const m = new CostModel(25, 1.2)
    m.observe(0, 10)
    m.observe(4, Number.NaN)
    m.observe(4, -1)
    expect(m.samples).toBe(0)
  })
})
