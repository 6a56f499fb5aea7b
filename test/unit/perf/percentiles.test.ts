import { describe, expect, it } from 'vitest'
import { median, percentiles } from '../../../perf/load/percentiles.js'

describe('percentiles', () => {
  it('reports nearest-rank percentiles: latencies one request really had', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i)
    expect(percentiles(values)).toEqual({ count: 200, p50: 100, p95: 190, p99: 198, max: 200, mean: 100.5 })
  })

  it('gives NaN figures for an empty sample', () => {
    expect(percentiles([]).p95).toBeNaN()
  })

  it('takes the single value of a one-element sample for every percentile', () => {
    expect(percentiles([7])).toEqual({ count: 1, p50: 7, p95: 7, p99: 7, max: 7, mean: 7 })
  })
})

describe('median', () => {
  it('takes the middle of an odd count and the mean of the two middles of an even one', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })
})
