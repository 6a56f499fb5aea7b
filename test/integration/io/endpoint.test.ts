import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness, verdict } from './harness.js'

/**
 * Endpoint memory (SPEC §7): `/api/forecast` first; a route 404 (`Not Found`) switches to
 * `/v1/forecast` at once — not counted as a retry — and the switch is remembered.
 */

let sim: Simulator | null = null
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await sim?.close()
  expect(h?.duplicates ?? []).toEqual([])
  h = null
  sim = null
})

describe('endpoint switching', () => {
  it('switches to /v1/forecast on a route 404 and stays there', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2, disableApiRoute: true })
    h = await Harness.start(sim.url)
    const first = await h.wait(h.submit({ max_retries: 0 }))
    expect(verdict(first[0]!)).toEqual({ reason: 'ok', attempts: 2 })
    expect(h.records.map((r) => [r.endpoint, r.outcome])).toEqual([
      ['/api/forecast', 'upstream_http_404'],
      ['/v1/forecast', 'ok'],
    ])
    const later = await h.wait(h.submit({}, {}))
    expect(later.map(verdict)).toEqual([
      { reason: 'ok', attempts: 1 },
      { reason: 'ok', attempts: 1 },
    ])
    expect(sim.stats().byRoute).toMatchObject({ 'POST /api/forecast': 1, 'POST /v1/forecast': 2 })
    expect((await h.actor.stats()).endpoint).toBe('/v1/forecast')
    expect((await h.actor.stats()).retries).toBe(0)
    expect((await h.actor.health(true)).endpoint).toBe('/v1/forecast')
  })

  it('switches on a single route 404 from a daemon that otherwise works', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2, schedule: ['route_404'] })
    h = await Harness.start(sim.url)
    const out = await h.wait(h.submit({}))
    expect(verdict(out[0]!)).toEqual({ reason: 'ok', attempts: 2 })
    expect(sim.stats().byRoute).toMatchObject({ 'POST /api/forecast': 1, 'POST /v1/forecast': 1 })
    expect((await h.actor.stats()).endpoint).toBe('/v1/forecast')
  })

  it('answers upstream_http_404 when both routes are missing, without retrying', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2, disableApiRoute: true, schedule: ['route_404', 'ok'] })
    h = await Harness.start(sim.url)
    const [job] = h.submit({})
    const out = await h.wait([job!])
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_http_404', attempts: 2 })
    expect(out[0]!.at).toBeLessThan(job!.deadline)
  })

  it('treats a model 404 as a missing model, not a missing route', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2, models: ['mock'] })
    h = await Harness.start(sim.url)
    const out = await h.wait(h.submit({ model: 'chronos2' }, { model: 'mock' }))
    expect(out.map(verdict)).toEqual([
      { reason: 'upstream_model_missing', attempts: 1 },
      { reason: 'ok', attempts: 1 },
    ])
    expect(sim.stats().byRoute['POST /v1/forecast']).toBeUndefined()
  })

  it('sends to a base_url with a path prefix', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    h = await Harness.start(sim.url + '/prefix/')
    const out = await h.wait(h.submit({ max_retries: 0 }))
    // The simulator knows no /prefix routes: both answer a route 404, which proves the prefix is used.
    expect(verdict(out[0]!)).toEqual({ reason: 'upstream_http_404', attempts: 2 })
    expect(sim.stats().byRoute['unknown']).toBe(2)
  })
})
