import { describe, expect, it } from 'vitest'
import { RequestMix } from '../../../perf/load/request-mix.js'

describe('RequestMix', () => {
  it('spreads a finite mix evenly: 200 requests over 20 keys ask for each key 10 times', () => {
    const mix = new RequestMix({ prefix: 'p', uniqueKeys: 20, requests: 200 })
    const counts = new Array<number>(20).fill(0)
    for (let i = 0; i < 200; i++) counts[mix.keyOf(i)]! += 1
    expect(counts).toEqual(new Array<number>(20).fill(10))
  })

  it('shuffles the same way for the same seed and differently for another', () => {
    const order = (seed: number) => Array.from({ length: 50 }, (_, i) => new RequestMix({ prefix: 'p', uniqueKeys: 10, requests: 50, seed }).keyOf(i))
    expect(order(1)).toEqual(order(1))
    expect(order(1)).not.toEqual(order(2))
  })

  it('gives every request its own market when the keys are unbounded', () => {
    const mix = new RequestMix({ prefix: 'run', uniqueKeys: Number.POSITIVE_INFINITY })
    expect([mix.keyOf(0), mix.keyOf(41)]).toEqual([0, 41])
    expect(JSON.parse(mix.body(41).toString()).market_id).toBe('run-k41')
  })

  it('builds valid bodies: 288 prices in (0, 1) with 4 decimals and the extra fields', () => {
    const mix = new RequestMix({ prefix: 'p', uniqueKeys: 3, requests: 3, extra: { liquidity_bucket: 'low' } })
    const body = JSON.parse(mix.body(2).toString())
    expect(body.market_id).toBe('p-k2')
    expect(body.as_of_ts).toBe('2026-02-20T00:00:00Z')
    expect(body.liquidity_bucket).toBe('low')
    expect(body.y).toHaveLength(288)
    for (const v of body.y) {
      expect(v).toBeGreaterThan(0)
      expect(v).toBeLessThan(1)
      expect(Math.round(v * 10_000) / 10_000).toBe(v)
    }
  })
})
