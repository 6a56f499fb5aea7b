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

/** Polls until `ok()` (the simulator's stats move on their own event loop turns). */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe('serial mode is per model, as tollama runs one runner per model family', () => {
  it('lets a short request for another model finish while a long one holds its own model', async () => {
    // 80 series × 10 ms = 800 ms against 10 ms: the order shows the lanes, not a timing guess.
    const sim = await startSimulator({ serial: true, latencyFixedMs: 0, latencyPerSeriesMs: 10 })
    const order: string[] = []
    const long = call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'chronos2', n: 80 })).then(() => order.push('long'))
    await until(() => sim.stats().byModel.chronos2?.requests === 1)
    await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'timesfm', n: 1 }))
    order.push('short')
    await long
    expect(order).toEqual(['short', 'long'])
    await sim.close()
  })

  it('makes a short request for the same model wait behind the long one', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 0, latencyPerSeriesMs: 10 })
    const order: string[] = []
    const long = call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'chronos2', n: 80 })).then(() => order.push('long'))
    await until(() => sim.stats().byModel.chronos2?.requests === 1)
    await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'chronos2', n: 1 }))
    order.push('short')
    await long
    expect(order).toEqual(['long', 'short'])
    await sim.close()
  })

  it('finishes two concurrent requests for two models in about one cost, and for one model in two', async () => {
    const cost = 250
    const sim = await startSimulator({ serial: true, latencyFixedMs: cost, latencyPerSeriesMs: 0 })
    const timed = async (models: string[]): Promise<number> => {
      const started = performance.now()
      const replies = await Promise.all(models.map((model) => call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model }))))
      expect(replies.map((r) => r.status)).toEqual(models.map(() => 200))
      return performance.now() - started
    }
    const begun = performance.now()
    const twoModels = await timed(['chronos2', 'timesfm'])
    const oneModel = await timed(['chronos2', 'chronos2'])
    const elapsed = performance.now() - begun
    // Lower bounds are properties of serial mode (timers may fire ≤1 ms early); the comparison
    // is a ratio with a wide margin (one cost against two), not an absolute timing.
    expect(twoModels).toBeGreaterThanOrEqual(cost - 2)
    expect(oneModel).toBeGreaterThanOrEqual(2 * cost - 4)
    expect(twoModels).toBeLessThan(0.75 * oneModel)
    const stats = sim.stats()
    expect(stats.maxConcurrent).toBe(1)
    expect(stats.byModel.chronos2).toMatchObject({ requests: 3, series: 3, maxConcurrent: 1, maxQueued: 1, coldStarts: 0 })
    expect(stats.byModel.timesfm).toMatchObject({ requests: 1, series: 1, maxConcurrent: 1, maxQueued: 0 })
    // Each model's busy time is its own serial work: at least its costs, at most the wall time.
    expect(stats.byModel.chronos2?.busyMs).toBeGreaterThanOrEqual(3 * cost - 6)
    expect(stats.byModel.chronos2?.busyMs).toBeLessThanOrEqual(elapsed)
    expect(stats.byModel.timesfm?.busyMs).toBeGreaterThanOrEqual(cost - 2)
    expect(stats.byModel.timesfm?.busyMs).toBeLessThanOrEqual(twoModels)
    await sim.close()
  })

  it('reports per model stats when not serial, maxConcurrent counting one model at a time', async () => {
    const sim = await startSimulator({ latencyFixedMs: 600, latencyPerSeriesMs: 0 })
    const models = ['chronos2', 'chronos2', 'chronos2', 'timesfm', 'timesfm']
    await Promise.all(models.map((model) => call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model, n: 2 }))))
    const stats = sim.stats()
    expect(stats.maxConcurrent).toBe(3)
    expect(stats.byModel).toMatchObject({
      chronos2: { requests: 3, series: 6, maxConcurrent: 3, maxQueued: 0 },
      timesfm: { requests: 2, series: 4, maxConcurrent: 2, maxQueued: 0 },
    })
    await sim.close()
  })

  it('leaves requests refused before the model (invalid, not installed) out of the model stats', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 0, latencyPerSeriesMs: 0, models: ['chronos2'] })
    expect((await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'timesfm' }))).status).toBe(404)
    expect((await call(agent, `${sim.url}/v1/forecast`, 'POST', { ...forecastBody(), horizon: 0 })).status).toBe(400)
    expect((await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'chronos2' }))).status).toBe(200)
    expect(sim.stats().byModel).toEqual({ chronos2: { requests: 1, series: 1, maxConcurrent: 1, maxQueued: 0, busyMs: 0, coldStarts: 0 } })
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
