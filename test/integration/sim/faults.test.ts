import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { request, type Agent } from 'undici'
import { startSimulator, type FaultKind, type Simulator } from '../../../src/sim/index.js'
import { MODEL_MISSING_HINT } from '../../../src/sim/responses.js'
import { call, forecastBody, json, newAgent } from './client.js'

let sim: Simulator
let agent: Agent

beforeAll(async () => {
  sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, retryAfterS: 3, slowBodyMs: 160 })
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
  await sim.close()
})

beforeEach(() => {
  sim.setFaults({ faults: {}, schedule: [] })
  sim.resetStats()
})

function inject(kind: FaultKind): void {
  sim.setFaults({ schedule: [kind] })
}

const post = (body: unknown = forecastBody(), path = '/v1/forecast') => call(agent, `${sim.url}${path}`, 'POST', body)

describe('fault injection', () => {
  it.each([
    ['http_500', 500],
    ['http_502', 502],
    ['http_503', 503],
    ['http_504', 504],
  ] as const)('%s answers its status with a tollama detail string', async (kind, status) => {
    inject(kind)
    const r = await post()
    expect(r.status).toBe(status)
    expect(typeof (json(r) as { detail: unknown }).detail).toBe('string')
    expect(sim.stats().faults).toEqual({ [kind]: 1 })
  })

  it('http_429 answers 429 with the configured Retry-After', async () => {
    inject('http_429')
    const r = await post()
    expect(r.status).toBe(429)
    expect(r.headers['retry-after']).toBe('3')
  })

  it('reset destroys the connection without any response', async () => {
    inject('reset')
    const err = await post().then(
      () => null,
      (e: unknown) => e as { code?: string },
    )
    expect(err).not.toBeNull()
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(err?.code)
    expect(sim.stats().faults).toEqual({ reset: 1 })
  })

  it('hang never answers, so the client times out waiting for headers', async () => {
    inject('hang')
    const err = await request(`${sim.url}/v1/forecast`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forecastBody()),
      headersTimeout: 150,
    }).then(
      () => null,
      (e: unknown) => e as { code?: string },
    )
    expect(err?.code).toBe('UND_ERR_HEADERS_TIMEOUT')
    expect(sim.stats().faults).toEqual({ hang: 1 })
  })

  it('slow_body sends the headers, then the body in many pieces', async () => {
    inject('slow_body')
    const res = await request(`${sim.url}/v1/forecast`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forecastBody()),
    })
    expect(res.statusCode).toBe(200)
    let pieces = 0
    let text = ''
    for await (const chunk of res.body) {
      pieces++
      text += (chunk as Buffer).toString('utf8')
    }
    expect(pieces).toBeGreaterThan(1)
    expect((JSON.parse(text) as { forecasts: unknown[] }).forecasts).toHaveLength(1)
  })

  it('invalid_json answers 200 "application/json" with the answer cut in half', async () => {
    const full = (await post()).text
    inject('invalid_json')
    const r = await post()
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(() => JSON.parse(r.text)).toThrow()
    // Half of its own answer; the two answers differ by a few characters of timing figures.
    expect(Math.abs(r.text.length - full.length / 2)).toBeLessThanOrEqual(8)
  })

  it('html answers 200 with an HTML page', async () => {
    inject('html')
    const r = await post()
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(r.text.startsWith('<!DOCTYPE html>')).toBe(true)
  })

  it('nan writes a bare NaN literal into the first quantile path, as Python json does', async () => {
    inject('nan')
    const r = await post()
    expect(r.status).toBe(200)
    expect(r.text).toContain('"0.1":[NaN,')
    const repaired = JSON.parse(r.text.replace('NaN', 'null')) as { forecasts: { quantiles: Record<string, unknown[]> }[] }
    expect(repaired.forecasts[0]?.quantiles['0.1']?.[0]).toBeNull()
  })

  it('missing_series drops the last series of a batch', async () => {
    inject('missing_series')
    const r = await post(forecastBody({ n: 3 }))
    expect((json(r) as { forecasts: { id: string }[] }).forecasts.map((f) => f.id)).toEqual(['m-0', 'm-1'])
  })

  it('missing_series leaves a single-series answer with no forecasts', async () => {
    inject('missing_series')
    const r = await post(forecastBody({ n: 1 }))
    expect((json(r) as { forecasts: unknown[] }).forecasts).toEqual([])
  })

  it('wrong_ids answers under ids that were not asked for', async () => {
    inject('wrong_ids')
    const r = await post(forecastBody({ n: 2 }))
    const ids = (json(r) as { forecasts: { id: string }[] }).forecasts.map((f) => f.id)
    expect(ids).toHaveLength(2)
    for (const id of ids) expect(['m-0', 'm-1']).not.toContain(id)
  })

  it('route_404 answers the route 404 body', async () => {
    inject('route_404')
    const r = await post(forecastBody({ stream: false }), '/api/forecast')
    expect(r.status).toBe(404)
    expect(r.text).toBe('{"detail":"Not Found"}')
  })

  it('model_404 answers the model-not-installed body for the requested model', async () => {
    inject('model_404')
    const r = await post(forecastBody({ model: 'chronos2' }))
    expect(r.status).toBe(404)
    expect(json(r)).toEqual({ detail: "model 'chronos2' is not installed", hint: MODEL_MISSING_HINT })
  })

  it('damages a streamed answer too (nan inside the done line)', async () => {
    inject('nan')
    const r = await post(forecastBody(), '/api/forecast')
    expect(r.headers['content-type']).toBe('application/x-ndjson')
    expect(r.text.split('\n')[2]).toContain('[NaN,')
  })

  it('consumes the schedule one entry per forecast request, in order, then answers normally', async () => {
    sim.setFaults({ schedule: ['http_503', 'ok', 'http_500', 'http_429'] })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await post()).status)
    expect(statuses).toEqual([503, 200, 500, 429, 200])
    expect(sim.stats().faults).toEqual({ http_503: 1, http_500: 1, http_429: 1 })
  })

  it('does not spend the schedule on requests to other routes', async () => {
    sim.setFaults({ schedule: ['http_503'] })
    await call(agent, `${sim.url}/api/version`, 'GET')
    expect((await post()).status).toBe(503)
  })

  it('draws rate faults from the seeded PRNG: the same seed gives the same sequence', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const s = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, seed, faults: { http_503: 0.3, http_500: 0.2 } })
      const out: number[] = []
      for (let i = 0; i < 30; i++) out.push((await call(agent, `${s.url}/v1/forecast`, 'POST', forecastBody())).status)
      await s.close()
      return out
    }
    const a = await run(7)
    const b = await run(7)
    const c = await run(8)
    expect(a).toEqual(b)
    expect(c).not.toEqual(a)
    expect(new Set(a)).toEqual(new Set([200, 500, 503]))
  })

  it('answers after hangMs instead of never when hangMs is set', async () => {
    const s = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, schedule: ['hang'], hangMs: 30 })
    const r = await call(agent, `${s.url}/v1/forecast`, 'POST', forecastBody())
    expect(r.status).toBe(200)
    expect(s.stats().faults).toEqual({ hang: 1 })
    await s.close()
  })

  it('ends a hung request when the simulator closes', async () => {
    const s = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0, schedule: ['hang'] })
    const pending = call(agent, `${s.url}/v1/forecast`, 'POST', forecastBody()).then(
      () => 'answered',
      () => 'failed',
    )
    await vi.waitFor(() => expect(s.stats().faults).toEqual({ hang: 1 }))
    await s.close()
    expect(await pending).toBe('failed')
  })
})
