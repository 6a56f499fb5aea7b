import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { startRedis, type TestRedis } from '../../helpers/redis-server.js'
import { l2Count, until, untilUp } from '../../helpers/l2.js'
import { probabilities } from '../../helpers/request-bodies.js'

const PREFIX = 'shared-test:'

function body(market: string): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }
}

describe('the shared L2 cache', () => {
  let redis: TestRedis
  let sim: Simulator
  let a: TestDaemon
  let b: TestDaemon
  let client: ReturnType<typeof createClient>

  beforeAll(async () => {
    redis = await startRedis()
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0.1 })
    // 50 ms, not the default 5: these tests are about what is served, and a daemon's first
    // lookups in a busy test process can be late (JIT, the other daemon's work on the same loop).
    const config = { tsfm: { cache: { l2: { url: redis.url, key_prefix: PREFIX, command_timeout_ms: 50 } } } }
    a = await startTestDaemon({ simulator: sim, config, defaultMetrics: false })
    b = await startTestDaemon({ simulator: sim, config, defaultMetrics: false })
    client = createClient({ url: redis.url })
    await client.connect()
    await untilUp(a)
    await untilUp(b)
  })

  afterAll(async () => {
    await client?.close()
    await a?.close()
    await b?.close()
    await sim?.close()
    await redis?.stop()
  })

  it('serves on one daemon the answer another daemon computed, without asking the upstream again', async () => {
    const first = await call(a.url, '/tsfm/forecast', { body: body('shared-1') })
    expect(first.body.meta.runtime).toBe('tollama')
    expect(first.body.meta.cache_hit).toBe(false)
    const series = sim.stats().seriesTotal
    const second = await call(b.url, '/tsfm/forecast', { body: body('shared-1') })
    expect(second.status).toBe(200)
    expect(second.body.meta.cache_hit).toBe(true)
    expect(second.body.yhat_q).toEqual(first.body.yhat_q)
    expect(sim.stats().seriesTotal).toBe(series)
    expect(await l2Count(b, 'hit')).toBeGreaterThanOrEqual(1)
  })

  it.each([
    ['of another format version', (v: string) => v.replace(/^tsfm1 /, 'tsfm9 ')],
    ['cut short', (v: string) => v.slice(0, Math.floor(v.length / 2))],
    ['not ours at all', () => 'hello'],
  ])('ignores an entry %s, computes the answer and overwrites the entry', async (_what, spoil) => {
    const market = `garbage-${Math.random().toString(36).slice(2)}`
    await call(a.url, '/tsfm/forecast', { body: body(market) })
    const key = await onlyKeyOf(market)
    const good = (await client.get(key)) as string
    await client.set(key, spoil(good))
    const series = sim.stats().seriesTotal
    const served = await call(b.url, '/tsfm/forecast', { body: body(market) })
    expect(served.status).toBe(200)
    expect(served.body.meta.cache_hit).toBe(false)
    expect(served.body.meta.runtime).toBe('tollama')
    expect(sim.stats().seriesTotal).toBe(series + 1)
    await until(async () => ((await client.get(key)) as string).startsWith('tsfm1 '))
    expect(await l2Count(b, 'invalid')).toBeGreaterThanOrEqual(1)
  })

  it('comes up through a timely run of the lookup script itself, which stores nothing and keeps no lease', async () => {
    await client.sendCommand(['CONFIG', 'RESETSTAT'])
    const config = { tsfm: { cache: { l2: { url: redis.url, key_prefix: 'probe-test:', command_timeout_ms: 50 } } } }
    const c = await startTestDaemon({ simulator: sim, config, defaultMetrics: false })
    try {
      await untilUp(c)
      const stats = (await client.sendCommand(['INFO', 'commandstats'])) as string
      // the probe is the lookup (an EVAL), not a PING: a new daemon's first request finds that path compiled
      expect(stats).toMatch(/cmdstat_eval:calls=[1-9]/)
      expect(stats).not.toMatch(/cmdstat_ping:/)
      await new Promise((ok) => setTimeout(ok, 5))
      expect(await client.keys('probe-test:*')).toEqual([])
    } finally {
      await c.close()
    }
  })

  /** The Redis key of the one answer stored for `market` (keys are hashes: found by content). */
  async function onlyKeyOf(market: string): Promise<string> {
    await until(async () => (await keysOf(market)).length === 1)
    return (await keysOf(market))[0] as string
  }

  async function keysOf(market: string): Promise<string[]> {
    const out: string[] = []
    for (const k of await client.keys(`${PREFIX}a:*`)) if (((await client.get(k)) ?? '').includes(`"market_id":"${market}"`)) out.push(k)
    return out
  }
})
