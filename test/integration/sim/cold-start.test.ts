import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { startSimulator } from '../../../src/sim/index.js'
import { call, forecastBody, json, newAgent, type Reply } from './client.js'

let agent: Agent

beforeAll(() => {
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
})

interface Timing {
  model_load_ms: number
  inference_ms: number
  total_ms: number
}

function timing(reply: Reply): Timing {
  expect(reply.status).toBe(200)
  return (json(reply) as { timing: Timing }).timing
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

describe('cold starts', () => {
  it('are off by default: every answer reports model_load_ms 0 and no cold start is counted', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 0, latencyPerSeriesMs: 0 })
    const url = `${sim.url}/v1/forecast`
    expect(timing(await call(agent, url, 'POST', forecastBody({ model: 'chronos2' }))).model_load_ms).toBe(0)
    expect(sim.stats().coldStarts).toBe(0)
    await sim.close()
  })

  it('are paid once per model, shown in timing.model_load_ms apart from inference_ms', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 5, latencyPerSeriesMs: 0, coldStartMs: 150 })
    const url = `${sim.url}/v1/forecast`
    const first = timing(await call(agent, url, 'POST', forecastBody({ model: 'chronos2' })))
    const second = timing(await call(agent, url, 'POST', forecastBody({ model: 'chronos2' })))
    const other = timing(await call(agent, url, 'POST', forecastBody({ model: 'timesfm' })))
    expect([first.model_load_ms, second.model_load_ms, other.model_load_ms]).toEqual([150, 0, 150])
    expect([first.inference_ms, second.inference_ms, other.inference_ms]).toEqual([5, 5, 5])
    // The load holds the model: a lower bound, timers may fire ≤1 ms early.
    expect(first.total_ms).toBeGreaterThanOrEqual(155 - 1)
    const stats = sim.stats()
    expect(stats.coldStarts).toBe(2)
    expect(stats.byModel.chronos2?.coldStarts).toBe(1)
    expect(stats.byModel.timesfm?.coldStarts).toBe(1)
    expect(stats.byModel.chronos2?.busyMs).toBeGreaterThanOrEqual(150 + 2 * 5 - 3)
    await sim.close()
  })

  it('are paid again by the first request after the model was idle for the keep-alive', async () => {
    const keepAliveMs = 500
    const sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, coldStartMs: 50, keepAliveMs })
    const url = `${sim.url}/v1/forecast`
    const loads = [timing(await call(agent, url, 'POST', forecastBody())).model_load_ms]
    loads.push(timing(await call(agent, url, 'POST', forecastBody())).model_load_ms)
    await sleep(keepAliveMs + 200)
    loads.push(timing(await call(agent, url, 'POST', forecastBody())).model_load_ms)
    loads.push(timing(await call(agent, url, 'POST', forecastBody())).model_load_ms)
    expect(loads).toEqual([50, 0, 50, 0])
    expect(sim.stats().coldStarts).toBe(2)
    await sim.close()
  })

  it('make the requests queued behind a load wait for that one load only (serial)', async () => {
    const sim = await startSimulator({ serial: true, latencyFixedMs: 10, latencyPerSeriesMs: 0, coldStartMs: 100 })
    const replies = await Promise.all(Array.from({ length: 3 }, () => call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())))
    expect(replies.map((r) => timing(r).model_load_ms).sort((a, b) => a - b)).toEqual([0, 0, 100])
    expect(sim.stats()).toMatchObject({ coldStarts: 1, maxConcurrent: 1, byModel: { mock: { requests: 3, coldStarts: 1, maxConcurrent: 1 } } })
    await sim.close()
  })

  it('show in the streamed answer of /api/forecast too', async () => {
    const sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, coldStartMs: 20 })
    const r = await call(agent, `${sim.url}/api/forecast`, 'POST', forecastBody())
    const last = JSON.parse(r.text.trim().split('\n').at(-1) as string) as { done: boolean; response: { timing: Timing } }
    expect(last.done).toBe(true)
    expect(last.response.timing.model_load_ms).toBe(20)
    await sim.close()
  })

  it('can be turned on at run time by POST /_sim/latency, with the keep-alive', async () => {
    const sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0 })
    const url = `${sim.url}/v1/forecast`
    expect(timing(await call(agent, url, 'POST', forecastBody({ model: 'chronos2' }))).model_load_ms).toBe(0)
    const set = await call(agent, `${sim.url}/_sim/latency`, 'POST', { coldStartMs: 80, keepAliveMs: 0 })
    expect(set.status).toBe(200)
    // keepAliveMs 0 unloads a model after each request: chronos2 loads again, timesfm for the first time.
    expect(timing(await call(agent, url, 'POST', forecastBody({ model: 'chronos2' }))).model_load_ms).toBe(80)
    expect(timing(await call(agent, url, 'POST', forecastBody({ model: 'timesfm' }))).model_load_ms).toBe(80)
    expect(timing(await call(agent, url, 'POST', forecastBody({ model: 'timesfm' }))).model_load_ms).toBe(80)
    expect(sim.stats().coldStarts).toBe(3)
    await sim.close()
  })

  it('refuses a negative cold start or keep-alive, naming the field and quoting the value', async () => {
    await expect(startSimulator({ coldStartMs: -1 })).rejects.toThrow('sim.coldStartMs must be a finite number >= 0, got -1')
    const sim = await startSimulator({ latencyFixedMs: 0 })
    expect(() => sim.setLatency({ keepAliveMs: -5 })).toThrow('sim.latency.keepAliveMs must be a finite number >= 0, got -5')
    const r = await call(agent, `${sim.url}/_sim/latency`, 'POST', { coldStartMs: 'slow' })
    expect(r.status).toBe(400)
    expect(json(r)).toEqual({ detail: 'sim.latency.coldStartMs must be a finite number >= 0, got "slow"' })
    await sim.close()
  })
})
