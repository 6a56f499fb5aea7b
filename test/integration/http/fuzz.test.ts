import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Pool } from 'undici'
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { fullBody, probabilities } from '../../helpers/request-bodies.js'

/**
 * SPEC §10 through real sockets: random and mutated bodies never produce a 5xx, never crash the
 * daemon, and a good request is still answered afterwards.
 */

const GOOD = JSON.stringify({ market_id: 'ok', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(40) })

/** Ways to spoil a valid body's text or value. */
const mutation = fc.oneof(
  // truncated JSON
  fc.nat().map((n) => (text: string) => text.slice(0, n % Math.max(1, text.length))),
  // a field set to a random JSON value (wrong types, nulls, nested junk)
  fc.tuple(fc.constantFrom('market_id', 'as_of_ts', 'freq', 'horizon_steps', 'quantiles', 'y', 'y_ts', 'x_past', 'x_future', 'transform', 'model', 'max_gap_minutes', 'liquidity_bucket'), fc.jsonValue()).map(
    ([k, v]) =>
      (text: string) => {
        const o = JSON.parse(text) as Record<string, unknown>
        o[k] = v
        return JSON.stringify(o)
      },
  ),
  // numbers as strings, NaN/Infinity as strings
  fc.constantFrom('"NaN"', '"Infinity"', '"0.5"', '"-1"', '1e309', '-0').map((lit) => (text: string) => text.replace(/0\.5\d*/, lit)),
  // huge arrays
  fc.integer({ min: 20_001, max: 60_000 }).map((n) => (text: string) => {
    const o = JSON.parse(text) as Record<string, unknown>
    o.y = new Array<number>(n).fill(0.5)
    return JSON.stringify(o)
  }),
  // deep nesting
  fc.integer({ min: 100, max: 100_000 }).map((depth) => (text: string) => text.replace('"params":{', `"params":{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`)),
  // prototype pollution attempts
  fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => (text: string) => text.replace('{', `{"${k}":{"polluted":true,"prototype":{"x":1}},`)),
  fc.constantFrom('"model":{"__proto__":{"admin":true},', '"x_past":{"constructor":[1,2],', '"transform":{"constructor":{"prototype":{}},').map((s) => (text: string) => text.replace('{', `{${s.slice(0, -1)}},`)),
)

describe('HTTP fuzz', () => {
  let d: TestDaemon
  let pool: Pool

  beforeAll(async () => {
    d = await startTestDaemon({ sim: { latencyFixedMs: 0, latencyPerSeriesMs: 0 }, config: { tsfm: { server: { rate_limit: { enabled: false } } } } })
    pool = new Pool(d.url, { connections: 8 })
  })
  afterAll(async () => {
    await pool.close()
    await d.close()
  })

  async function post(text: string, contentType = 'application/json'): Promise<number> {
    const res = await pool.request({ path: '/tsfm/forecast', method: 'POST', headers: { 'content-type': contentType }, body: text })
    await res.body.dump()
    return res.statusCode
  }

  it('never answers 5xx to 2 000 random and mutated bodies, and still serves a good one', async () => {
    const base = JSON.stringify({ ...fullBody(48), y_ts: null })
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce((t, m) => safe(m, t), base)) },
          { weight: 1, arbitrary: fc.json() },
          { weight: 1, arbitrary: fc.string() },
        ),
        async (text) => {
          const status = await post(text)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          expect(status).toBeLessThan(500)
        },
      ),
      { numRuns: 2000, interruptAfterTimeLimit: 120_000 },
    )
    const total = [...statuses.values()].reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThanOrEqual(2000)
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0)
    expect(await post(GOOD)).toBe(200)
  }, 180_000)

  it('answers a 10 MB body with 413 and keeps serving', async () => {
    const huge = `{"market_id":"m","y":[${'0.5,'.repeat(2_500_000)}0.5]}`
    expect(huge.length).toBeGreaterThan(10_000_000)
    expect(await post(huge)).toBe(413)
    expect(await post(GOOD)).toBe(200)
  })

  it('answers wrong content types with 415 and keeps serving', async () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      expect(await post(GOOD, ct)).toBe(415)
    }
    expect(await post(GOOD)).toBe(200)
  })
})

/** A mutation that throws (e.g. JSON.parse of an already-truncated text) leaves the text alone. */
function safe(m: (t: string) => string, t: string): string {
  try {
    return m(t)
  } catch {
    return t
  }
}
