import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MEMBER_IDS_MAX_BYTES } from '../../../src/io/thread/upstream-ids.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { Harness } from './harness.js'

/**
 * The request ids each upstream request carries (issue 13), through the real I/O thread into
 * the simulator, which keeps the id headers of the last forecast requests it received.
 */

let sim: Simulator
let io: Harness

const FRESH = /^tsfm-[0-9a-f]{12}-[0-9a-z]+$/

beforeAll(async () => {
  sim = await startSimulator({ port: 0, latencyFixedMs: 2, latencyPerSeriesMs: 0.05 })
  io = await Harness.start(sim.url, { batch_window_ms: 2, batch_max_series: 128 })
})

afterAll(async () => {
  await io.close()
  await sim.close()
})

beforeEach(() => sim.resetStats())

describe('request ids sent upstream', () => {
  it("sends a lone series with its caller's id as X-Request-Id, and no member list", async () => {
    await io.wait(io.submit({ series_id: 'lone', request_id: 'abc-1' }))
    expect(sim.stats().requestIds).toEqual([{ id: 'abc-1', members: null }])
  })

  it('gives a request whose series has no id a fresh id of its own', async () => {
    await io.wait(io.submit({ series_id: 'anon-1', request_id: null }))
    await io.wait(io.submit({ series_id: 'anon-2', request_id: null }))
    const [a, b] = sim.stats().requestIds
    expect(a?.id).toMatch(FRESH)
    expect(b?.id).toMatch(FRESH)
    expect(a?.id).not.toBe(b?.id)
    expect(a?.members).toBeNull()
  })

  it("gives a multiplexed request one fresh id and lists its callers' ids", async () => {
    const jobs = io.submit({ series_id: 'm-1', request_id: 'caller-1' }, { series_id: 'm-2', request_id: 'caller-2' }, { series_id: 'm-3', request_id: null }, { series_id: 'm-4', request_id: 'caller-1' })
    await io.wait(jobs)
    expect(sim.stats().batchSizes).toEqual([4])
    const [seen] = sim.stats().requestIds
    expect(seen?.id).toMatch(FRESH)
    expect(seen?.members).toBe('caller-1,caller-2')
  })

  it(`keeps the member list of a 128-series request of long ids within ${MEMBER_IDS_MAX_BYTES} bytes`, async () => {
    const ids = Array.from({ length: 128 }, (_, i) => `${String(i).padStart(3, '0')}-${'r'.repeat(124)}`)
    await io.wait(io.submit(...ids.map((request_id, i) => ({ series_id: `cap-${i}`, request_id }))))
    expect(sim.stats().batchSizes).toEqual([128])
    const members = sim.stats().requestIds[0]?.members as string
    expect(Buffer.byteLength(members)).toBeLessThanOrEqual(MEMBER_IDS_MAX_BYTES)
    const items = members.split(',')
    const more = Number((items.pop() as string).replace(/^\+/, ''))
    expect(items).toEqual(ids.slice(0, items.length))
    expect(items.length + more).toBe(128)
  })

  it("sends a retry with the batch's id, and names it in the failure outcome", async () => {
    sim.setFaults({ schedule: ['http_503'] })
    await io.wait(io.submit({ series_id: 'retried', request_id: 'retry-me' }))
    expect(sim.stats().requestIds.map((r) => r.id)).toEqual(['retry-me', 'retry-me'])
    sim.setFaults({ schedule: ['http_500'] })
    const [failed] = await io.wait(io.submit({ series_id: 'f-1', request_id: 'x-1' }, { series_id: 'f-2', request_id: 'x-2' }))
    const sent = sim.stats().requestIds.at(-1)
    expect(failed?.outcome).toMatchObject({ ok: false, reason: 'upstream_http_500', upstream_request_id: sent?.id })
    expect(sent?.members).toBe('x-1,x-2')
  })
})
