import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Pool, type Agent } from 'undici'
import { startSimulator } from '../../../src/sim/index.js'
import { call, forecastBody, json, newAgent } from './client.js'

let agent: Agent

beforeAll(() => {
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
})

describe('the latency model and serial mode', () => {
  it('holds the model for one request at a time in serial mode', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 15, latencyPerSeriesMs: 0 })
    const replies = await Promise.all(Array.from({ length: 6 }, () => call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())))
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200])
    const stats = sim.stats()
    expect(stats.maxConcurrent).toBe(1)
    expect(stats.forecastRequests).toBe(6)
    await sim.close()
  })

  it('runs concurrent requests at once when not serial', async () => {
    const sim = await startSimulator({ latencyFixedMs: 600, latencyPerSeriesMs: 0 })
    await Promise.all(Array.from({ length: 6 }, () => call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())))
    expect(sim.stats().maxConcurrent).toBe(6)
    await sim.close()
  })

  it('serves queued requests first in, first out', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 30, latencyPerSeriesMs: 0 })
    // Request k carries k + 1 series, so batchSizes (arrival order) identifies each request.
    const finished: number[] = []
    await Promise.all(
      Array.from({ length: 5 }, (_, k) =>
        call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ n: k + 1 })).then((r) => {
          finished.push((json(r) as { forecasts: unknown[] }).forecasts.length)
        }),
      ),
    )
    expect(finished).toEqual(sim.stats().batchSizes)
    await sim.close()
  })

  it('cannot finish n serial requests faster than n times the fixed latency', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 25, latencyPerSeriesMs: 0 })
    const started = performance.now()
    await Promise.all(Array.from({ length: 4 }, () => call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())))
    // A lower bound is a property of serial mode, not a timing guess (timers may fire ≤1 ms early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 25 - 4)
    await sim.close()
  })

  it('reports the modelled cost (fixed + per series × n) as inference_ms', async () => {
    const sim = await startSimulator({ latencyFixedMs: 2, latencyPerSeriesMs: 0.5 })
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ n: 4 }))
    expect((json(r) as { timing: { inference_ms: number } }).timing.inference_ms).toBe(4)
    sim.setLatency({ perSeriesMs: 1 })
    const r2 = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ n: 4 }))
    expect((json(r2) as { timing: { inference_ms: number } }).timing.inference_ms).toBe(6)
    await sim.close()
  })

  it('rejects a negative latency', async () => {
    const sim = await startSimulator({ latencyFixedMs: 0 })
    expect(() => sim.setLatency({ fixedMs: -1 })).toThrow('sim.latency.fixedMs must be a finite number >= 0, got -1')
    await sim.close()
  })
})

describe('connections', () => {
  it('keeps connections alive: sequential requests reuse one socket', async () => {
    const sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0 })
    const pool = new Pool(sim.url, { connections: 1 })
    for (let i = 0; i < 10; i++) {
      const res = await pool.request({
        path: '/v1/forecast',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(forecastBody()),
      })
      await res.body.text()
    }
    const stats = sim.stats()
    expect(stats.connections).toBe(1)
    expect(stats.openConnections).toBe(1)
    expect(stats.requests).toBe(10)
    await pool.close()
    await sim.close()
  })

  it('counts each distinct socket once', async () => {
    const sim = await startSimulator({ latencyFixedMs: 200, latencyPerSeriesMs: 0 })
    const pool = new Pool(sim.url, { connections: 3 })
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        const res = await pool.request({ path: '/v1/forecast', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(forecastBody()) })
        await res.body.text()
      }),
    )
    expect(sim.stats().connections).toBe(3)
    await pool.close()
    await sim.close()
  })
})
