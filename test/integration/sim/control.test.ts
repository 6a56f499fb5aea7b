import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { startSimulator, type SimStats, type Simulator } from '../../../src/sim/index.js'
import { call, forecastBody, json, newAgent } from './client.js'

let sim: Simulator
let agent: Agent

beforeAll(async () => {
  sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0 })
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
  await sim.close()
})

beforeEach(async () => {
  await call(agent, `${sim.url}/_sim/faults`, 'POST', { faults: {}, schedule: [] })
  await call(agent, `${sim.url}/_sim/reset`, 'POST')
})

const stats = async (): Promise<SimStats> => json(await call(agent, `${sim.url}/_sim/stats`, 'GET')) as SimStats

describe('control routes', () => {
  it('GET /_sim/stats answers the same stats as the library, without counting itself', async () => {
    await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ n: 2 }))
    await call(agent, `${sim.url}/api/version`, 'GET')
    const s = await stats()
    expect(s).toEqual(sim.stats())
    expect(s).toMatchObject({
      requests: 2,
      forecastRequests: 1,
      seriesTotal: 2,
      byRoute: { 'POST /v1/forecast': 1, 'GET /api/version': 1 },
      faults: {},
      coldStarts: 0,
      byModel: { mock: { requests: 1, series: 2, maxConcurrent: 1, maxQueued: 0, busyMs: 0, coldStarts: 0 } },
      batchSizes: [2],
    })
  })

  it('POST /_sim/reset zeroes the counters', async () => {
    await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())
    expect((await call(agent, `${sim.url}/_sim/reset`, 'POST')).text).toBe('{"ok":true}')
    expect(await stats()).toMatchObject({
      requests: 0,
      forecastRequests: 0,
      seriesTotal: 0,
      byRoute: {},
      batchSizes: [],
      maxConcurrent: 0,
      byModel: { mock: { requests: 0, series: 0, maxConcurrent: 0, busyMs: 0 } },
    })
  })

  it('POST /_sim/faults installs a schedule', async () => {
    const r = await call(agent, `${sim.url}/_sim/faults`, 'POST', { schedule: ['http_502', 'ok'] })
    expect(r.status).toBe(200)
    const a = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())
    const b = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())
    expect([a.status, b.status]).toEqual([502, 200])
    expect((await stats()).faults).toEqual({ http_502: 1 })
  })

  it('POST /_sim/faults installs rates', async () => {
    await call(agent, `${sim.url}/_sim/faults`, 'POST', { faults: { http_504: 1 } })
    expect((await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())).status).toBe(504)
  })

  it('POST /_sim/faults refuses an unknown fault kind with a message quoting it', async () => {
    const r = await call(agent, `${sim.url}/_sim/faults`, 'POST', { schedule: ['explode'] })
    expect(r.status).toBe(400)
    expect((json(r) as { detail: string }).detail).toMatch(/^sim\.schedule\[0\] must be "ok" or a fault kind .*, got "explode"$/)
  })

  it('POST /_sim/faults refuses rates that sum above 1', async () => {
    const r = await call(agent, `${sim.url}/_sim/faults`, 'POST', { faults: { hang: 0.6, reset: 0.6 } })
    expect(r.status).toBe(400)
    expect((json(r) as { detail: string }).detail).toBe('sim.faults must sum to at most 1, got 1.2')
  })

  it('POST /_sim/latency changes the modelled cost', async () => {
    expect((await call(agent, `${sim.url}/_sim/latency`, 'POST', { fixedMs: 3, perSeriesMs: 0 })).status).toBe(200)
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())
    expect((json(r) as { timing: { inference_ms: number } }).timing.inference_ms).toBe(3)
    await call(agent, `${sim.url}/_sim/latency`, 'POST', { fixedMs: 0 })
  })

  it('POST /_sim/latency refuses an unknown field', async () => {
    const r = await call(agent, `${sim.url}/_sim/latency`, 'POST', { fixed: 3 })
    expect(r.status).toBe(400)
    expect(json(r)).toEqual({ detail: 'unknown field "fixed" (allowed: fixedMs, perSeriesMs, coldStartMs, keepAliveMs)' })
  })

  it('answers a wrong method on a control route with 405', async () => {
    const r = await call(agent, `${sim.url}/_sim/stats`, 'POST', {})
    expect(r.status).toBe(405)
    expect(r.headers.allow).toBe('GET')
  })

  it('answers an unknown control route with 404', async () => {
    expect((await call(agent, `${sim.url}/_sim/nope`, 'GET')).status).toBe(404)
  })
})
