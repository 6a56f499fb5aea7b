import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { MODEL_MISSING_HINT, VALIDATION_HINT } from '../../../src/sim/responses.js'
import { call, forecastBody, json, newAgent } from './client.js'

let sim: Simulator
let agent: Agent

beforeAll(async () => {
  sim = await startSimulator({ port: 0, latencyFixedMs: 0, latencyPerSeriesMs: 0, models: ['mock', 'chronos2'] })
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
  await sim.close()
})

describe('tollama simulator routes', () => {
  it('listens on 127.0.0.1 at the port it reports', () => {
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`)
    expect(sim.port).toBeGreaterThan(0)
  })

  it('answers GET /api/version with the simulator version', async () => {
    const r = await call(agent, `${sim.url}/api/version`, 'GET')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(json(r)).toEqual({ version: '0.1.0-sim' })
  })

  it('answers HEAD /api/version with headers only', async () => {
    const r = await call(agent, `${sim.url}/api/version`, 'HEAD')
    expect(r.status).toBe(200)
    expect(r.text).toBe('')
  })

  it.each(['/v1/health', '/health/live'])('answers GET %s with status ok', async (path) => {
    const r = await call(agent, `${sim.url}${path}`, 'GET')
    expect(r.status).toBe(200)
    expect(json(r)).toEqual({ status: 'ok' })
  })

  it('lists the installed models on GET /api/tags', async () => {
    const r = await call(agent, `${sim.url}/api/tags`, 'GET')
    const names = (json(r) as { models: { name: string }[] }).models.map((m) => m.name)
    expect(names).toEqual(['mock', 'chronos2'])
  })

  it('answers an unknown path with FastAPI\'s route 404 body', async () => {
    const r = await call(agent, `${sim.url}/api/nothing-here`, 'GET')
    expect(r.status).toBe(404)
    expect(r.text).toBe('{"detail":"Not Found"}')
  })

  it('answers a wrong method on a known route with 405 and an Allow header', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'GET')
    expect(r.status).toBe(405)
    expect(r.text).toBe('{"detail":"Method Not Allowed"}')
    expect(r.headers.allow).toBe('POST')
    const v = await call(agent, `${sim.url}/api/version`, 'POST', {})
    expect(v.status).toBe(405)
    expect(v.headers.allow).toBe('GET, HEAD')
  })

  it('answers a model that is not installed with the model 404 body and its hint', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ model: 'moirai' }))
    expect(r.status).toBe(404)
    expect(json(r)).toEqual({ detail: "model 'moirai' is not installed", hint: MODEL_MISSING_HINT })
  })

  it('answers POST /v1/forecast with plain JSON in tollama\'s response shape', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ n: 2, horizon: 2 }))
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    const body = json(r) as Record<string, unknown>
    expect(Object.keys(body)).toEqual([
      'model',
      'forecasts',
      'timing',
      'usage',
      'metrics',
      'explanation',
      'narrative',
      'preprocessing',
      'warnings',
    ])
    expect(body.model).toBe('mock')
    expect(body.usage).toEqual({ horizon: 2, runner: 'tollama-sim', series_count: 2 })
    expect(Object.keys(body.timing as object)).toEqual(['model_load_ms', 'inference_ms', 'total_ms'])
    const forecasts = body.forecasts as { id: string; quantiles: Record<string, number[]> }[]
    expect(forecasts.map((f) => f.id)).toEqual(['m-0', 'm-1'])
    expect(Object.keys(forecasts[0]?.quantiles ?? {})).toEqual(['0.1', '0.5', '0.9'])
  })

  it('answers /v1/forecast in plain JSON and refuses a stream field there, as tollama does', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect((json(r) as { model: string }).model).toBe('mock')
    // tollama's /v1/forecast takes ForecastRequest (extra="forbid"); `stream` is ApiForecastRequest's.
    const s = await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody({ stream: true }))
    expect(s.status).toBe(400)
    expect((json(s) as { detail: Array<{ type: string; loc: unknown[] }> }).detail[0]).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'stream'] })
  })

  it('streams NDJSON on /api/forecast unless the body says "stream": false', async () => {
    const r = await call(agent, `${sim.url}/api/forecast`, 'POST', forecastBody())
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/x-ndjson')
    const lines = r.text.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe('')
    expect(JSON.parse(lines[0] as string)).toEqual({ status: 'loading model' })
    expect(JSON.parse(lines[1] as string)).toEqual({ status: 'running forecast' })
    const done = JSON.parse(lines[2] as string) as { done: boolean; response: { forecasts: { id: string }[] } }
    expect(done.done).toBe(true)
    expect(done.response.forecasts[0]?.id).toBe('m-0')
  })

  it('answers /api/forecast with "stream": false as the same JSON as /v1/forecast', async () => {
    const a = json(await call(agent, `${sim.url}/api/forecast`, 'POST', forecastBody({ stream: false }))) as Record<string, unknown>
    const b = json(await call(agent, `${sim.url}/v1/forecast`, 'POST', forecastBody())) as Record<string, unknown>
    expect(a.forecasts).toEqual(b.forecasts)
    expect(a.usage).toEqual(b.usage)
  })

  it('answers an invalid body with a 400 listing FastAPI issues and a hint', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', { ...forecastBody(), horizon: 0 })
    expect(r.status).toBe(400)
    expect(json(r)).toEqual({
      detail: [{ type: 'greater_than', loc: ['body', 'horizon'], msg: 'Input should be greater than 0', input: 0, ctx: { gt: 0 } }],
      hint: VALIDATION_HINT,
    })
  })

  it('echoes X-Request-ID like tollama', async () => {
    const r = await call(agent, `${sim.url}/api/version`, 'GET', undefined, { 'x-request-id': 'abc-123' })
    expect(r.headers['x-request-id']).toBe('abc-123')
  })

  it('refuses to listen anywhere but loopback', async () => {
    await expect(startSimulator({ host: '0.0.0.0' })).rejects.toThrow(/sim\.host must be "127\.0\.0\.1" or "localhost"/)
  })

  it('rejects an unknown option instead of ignoring it', async () => {
    await expect(startSimulator({ latency: 3 } as never)).rejects.toThrow('sim.latency is not a simulator option, got "latency"')
  })
})

describe('tollama simulator with the /api route disabled', () => {
  let off: Simulator

  beforeAll(async () => {
    off = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, disableApiRoute: true })
  })

  afterAll(async () => {
    await off.close()
  })

  it('answers /api/forecast with the route 404 and still serves /v1/forecast', async () => {
    const a = await call(agent, `${off.url}/api/forecast`, 'POST', forecastBody({ stream: false }))
    expect(a.status).toBe(404)
    expect(a.text).toBe('{"detail":"Not Found"}')
    const b = await call(agent, `${off.url}/v1/forecast`, 'POST', forecastBody())
    expect(b.status).toBe(200)
    const stats = off.stats()
    expect(stats.forecastRequests).toBe(1)
    expect(stats.byRoute).toEqual({ 'POST /api/forecast': 1, 'POST /v1/forecast': 1 })
  })

  it('lists the model names it has served when any name is accepted', async () => {
    await call(agent, `${off.url}/v1/forecast`, 'POST', forecastBody({ model: 'timesfm' }))
    const r = await call(agent, `${off.url}/api/tags`, 'GET')
    expect((json(r) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(['mock', 'timesfm'])
  })
})
