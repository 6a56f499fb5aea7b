import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import type { UpstreamHealth } from '../../../src/io/types.js'
import { Harness, until } from './harness.js'
import { startProxy, type Proxy } from './proxy.js'

/**
 * Health probes (`GET /api/version`), installed models (`GET /api/tags`), warm-up forecasts and
 * the upstream bearer token.
 */

const SILENT = fileURLToPath(new URL('../../fixtures/io/silent-actor.mjs', import.meta.url))

let sim: Simulator | null = null
let proxy: Proxy | null = null
let h: Harness | null = null

afterEach(async () => {
  await h?.close()
  await proxy?.close()
  await sim?.close()
  h = null
  proxy = null
  sim = null
})

describe('health', () => {
  it('probes GET /api/version on demand', async () => {
    sim = await startSimulator({ port: 0 })
    h = await Harness.start(sim.url)
    const health = await h.actor.health(true)
    expect(health).toMatchObject({ ok: true, version: '0.1.0-sim', endpoint: '/api/forecast' })
    expect(health.latency_ms).toBeGreaterThanOrEqual(0)
    expect(sim.stats().byRoute['GET /api/version']).toBe(1)
    expect(await h.actor.health()).toEqual(health)
    await until(() => h!.records.length === 1)
    expect(h.records.filter((r) => r.endpoint === '/api/version').map((r) => [r.outcome, r.series])).toEqual([['ok', 0]])
  })

  it('reports the upstream down when nothing listens', async () => {
    sim = await startSimulator({ port: 0 })
    const url = sim.url
    await sim.close()
    sim = null
    h = await Harness.start(url)
    expect(await h.actor.health(true)).toMatchObject({ ok: false, version: null, latency_ms: null })
    await until(() => h!.records.length === 1)
    expect(h.records.map((r) => [r.endpoint, r.outcome])).toEqual([['/api/version', 'upstream_unavailable']])
  })

  it('probes on its interval and reports every probe', async () => {
    sim = await startSimulator({ port: 0 })
    const seen: UpstreamHealth[] = []
    h = await Harness.start(sim.url, { health_interval_s: 0.05 }, { onHealth: (x) => seen.push(x) })
    await until(() => seen.length >= 3)
    expect(seen.every((x) => x.ok)).toBe(true)
    expect(seen[2]!.checked_at).toBeGreaterThan(seen[0]!.checked_at)
  })
})

describe('installed models', () => {
  it('lists the models tollama has installed (GET /api/tags)', async () => {
    sim = await startSimulator({ port: 0, models: ['mock'] })
    h = await Harness.start(sim.url)
    expect(await h.actor.installedModels()).toEqual(['mock'])
    expect(sim.stats().byRoute['GET /api/tags']).toBe(1)
  })

  it('answers null when nothing listens', async () => {
    // Port 9 (discard), never served here: a port freed by a closed simulator can be taken at
    // once by another process's server on this machine (seen: an /api/tags answer from it).
    h = await Harness.start('http://127.0.0.1:9')
    expect(await h.actor.installedModels()).toBeNull()
  })

  it('answers null, within the adapter timeout, when the thread does not answer', async () => {
    h = await Harness.start('http://127.0.0.1:9', { timeout_s: 0.2 }, { workerFile: SILENT })
    const start = Date.now()
    expect(await h.actor.installedModels()).toBeNull()
    // 0.2 s + CALL_MARGIN_MS; the bound here only tells "ended" from "hung" (a generous 10×).
    expect(Date.now() - start).toBeLessThan(5000)
  })

  it('answers null after close', async () => {
    sim = await startSimulator({ port: 0, models: ['mock'] })
    h = await Harness.start(sim.url)
    await h.close()
    expect(await h.actor.installedModels()).toBeNull()
  })
})

describe('warm-up', () => {
  it('sends one tiny forecast per configured model at start', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    h = await Harness.start(sim.url, { warmup: { enabled: true, models: ['chronos2', 'timesfm'], interval_s: 600 } })
    await until(() => sim!.stats().forecastRequests === 2)
    expect(sim.stats().batchSizes).toEqual([1, 1])
    await until(() => h!.records.length === 2)
    expect(h.records.map((r) => [r.endpoint, r.outcome, r.series])).toEqual([
      ['/api/forecast', 'ok', 1],
      ['/api/forecast', 'ok', 1],
    ])
  })

  it('warms the default model when none is listed, and repeats on its interval', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2, models: ['chronos2'] })
    h = await Harness.start(sim.url, { model: 'chronos2', warmup: { enabled: true, models: [], interval_s: 0.1 } })
    await until(() => h!.records.length >= 3)
    expect(new Set(h.records.map((r) => r.outcome))).toEqual(new Set(['ok']))
  })

  it('sends nothing when disabled', async () => {
    sim = await startSimulator({ port: 0 })
    h = await Harness.start(sim.url, { warmup: { enabled: false, models: ['chronos2'], interval_s: 600 } })
    await h.actor.health(true)
    expect(sim.stats().forecastRequests).toBe(0)
  })
})

describe('upstream token', () => {
  it('sends Authorization: Bearer on forecasts and probes when configured', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    proxy = await startProxy(sim.url)
    h = await Harness.start(proxy.url, { api_token: 's3cret' })
    await h.wait(h.submit({}))
    await h.actor.health(true)
    expect(proxy.headers.map((x) => x.authorization)).toEqual(['Bearer s3cret', 'Bearer s3cret'])
  })

  it('sends no Authorization header without a token', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 2 })
    proxy = await startProxy(sim.url)
    h = await Harness.start(proxy.url, { api_token: null })
    await h.wait(h.submit({}))
    expect(proxy.headers.map((x) => x.authorization)).toEqual([undefined])
  })
})
