import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { call, json, newAgent } from './client.js'

let sim: Simulator
let agent: Agent

beforeAll(async () => {
  sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, spread: 0.5 })
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
  await sim.close()
})

interface Forecast {
  id: string
  freq: string
  start_timestamp: string
  mean: number[]
  quantiles: Record<string, number[]> | null
}

async function forecast(series: Record<string, unknown>[], horizon: number, quantiles?: number[]): Promise<Forecast[]> {
  const body: Record<string, unknown> = { model: 'mock', horizon, series }
  if (quantiles !== undefined) body.quantiles = quantiles
  const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', body)
  expect(r.status).toBe(200)
  return (json(r) as { forecasts: Forecast[] }).forecasts
}

const Z_90 = 1.2815515655446004 // Φ⁻¹(0.9)

describe('the deterministic model over HTTP', () => {
  it('repeats the last target as the mean and widens the band by spread·z·sqrt(h/H)', async () => {
    const [f] = await forecast(
      [{ id: 'm', freq: '5min', timestamps: ['2026-02-20T00:00:00Z', '2026-02-20T00:05:00Z'], target: [-1.2, 0.4] }],
      4,
      [0.1, 0.5, 0.9],
    )
    expect(f?.mean).toEqual([0.4, 0.4, 0.4, 0.4])
    expect(f?.quantiles?.['0.5']).toEqual([0.4, 0.4, 0.4, 0.4])
    const upper = f?.quantiles?.['0.9'] ?? []
    const lower = f?.quantiles?.['0.1'] ?? []
    for (let h = 1; h <= 4; h++) {
      expect(upper[h - 1]).toBeCloseTo(0.4 + 0.5 * Z_90 * Math.sqrt(h / 4), 8)
      expect(lower[h - 1]).toBeCloseTo(0.4 - 0.5 * Z_90 * Math.sqrt(h / 4), 8)
    }
  })

  it('starts the forecast one freq step after the last timestamp', async () => {
    const [f] = await forecast(
      [{ id: 'm', freq: '5min', timestamps: ['2026-02-20T23:45:00Z', '2026-02-20T23:50:00Z'], target: [1, 2] }],
      1,
    )
    expect(f?.start_timestamp).toBe('2026-02-20T23:55:00Z')
    expect(f?.freq).toBe('5min')
  })

  it('infers the step of freq "auto" from the last two timestamps and names it like pandas', async () => {
    const [f] = await forecast(
      [{ id: 'm', freq: 'auto', timestamps: ['2026-02-20T10:00:00', '2026-02-20T11:00:00'], target: [1, 2] }],
      1,
    )
    expect(f?.freq).toBe('h')
    expect(f?.start_timestamp).toBe('2026-02-20T12:00:00')
  })

  it('defaults a missing freq to "auto"', async () => {
    const [f] = await forecast([{ id: 'm', timestamps: ['2026-02-20', '2026-02-21'], target: [1, 2] }], 1)
    expect(f?.freq).toBe('D')
    expect(f?.start_timestamp).toBe('2026-02-22T00:00:00')
  })

  it('keys quantiles with Python str(float) of the requested values', async () => {
    const [f] = await forecast([{ id: 'm', freq: '1h', timestamps: ['2026-02-20T00:00:00Z'], target: [0] }], 1, [0.00001, 0.25, 0.5])
    expect(Object.keys(f?.quantiles ?? {})).toEqual(['1e-05', '0.25', '0.5'])
  })

  it('answers quantiles: null when none were requested', async () => {
    const [f] = await forecast([{ id: 'm', freq: '1h', timestamps: ['2026-02-20T00:00:00Z'], target: [3] }], 2)
    expect(f?.quantiles).toBeNull()
    expect(f?.mean).toEqual([3, 3])
  })

  it('answers every series of a batch under its own id, in order', async () => {
    const series = ['a', 'b', 'c'].map((id, i) => ({ id, freq: '5min', timestamps: ['2026-02-20T00:00:00Z'], target: [i] }))
    const forecasts = await forecast(series, 1, [0.5])
    expect(forecasts.map((f) => [f.id, f.mean[0]])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ])
    expect(sim.stats().batchSizes.at(-1)).toBe(3)
  })
})
