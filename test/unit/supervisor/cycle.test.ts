import { describe, expect, it } from 'vitest'
import type { ForecastRequest } from '../../../src/request/types.js'
import { Cycle } from '../../../src/supervisor/cycle.js'
import { harness, marketBody } from '../../helpers/supervisor-harness.js'

function cycleOf(n: number, workerConcurrency: number) {
  const h = harness({ tsfm: { perf: { worker_concurrency: workerConcurrency, queue_timeout_ms: 10_000 }, adapter: { deadline_budget_ms: 60_000 } } })
  const requests: ForecastRequest[] = Array.from({ length: n }, (_, i) => h.request(marketBody(`m-${i}`)))
  let finished = 0
  const cycle = new Cycle(h.sup, h.clock, requests, { budgetMs: 60_000, concurrency: 4, reserveMs: 50, onFinish: () => finished++ })
  return { h, cycle, finished: () => finished }
}

/** Settles with the promise, or rejects after `ms` (a `next()` that never settles fails the test). */
function within<T>(p: Promise<T>, ms = 1000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms))])
}

/** Regression (reliability issue, item 6). */
describe('a cycle', () => {
  it('stops sending and withdraws its waiting requests when the caller breaks out of the loop', async () => {
    const { h, cycle, finished } = cycleOf(10, 2)
    expect(h.upstream.pending).toHaveLength(4) // the cycle's four in flight, queued in their lane
    h.upstream.succeed(h.upstream.pending[0]!)
    expect(h.upstream.pending).toHaveLength(4) // the answer let the cycle send one more
    const sent = h.upstream.jobs.length
    for await (const item of cycle) {
      expect(item.rank).toBe(0)
      break
    }
    expect(finished()).toBe(1)
    expect(cycle.summary).not.toBeNull()
    // its waiting requests were withdrawn: their jobs taken back from the lane, nothing more sent
    expect(h.upstream.cancelled).toHaveLength(4)
    expect(h.upstream.pending).toHaveLength(0)
    expect(h.upstream.jobs.length).toBe(sent)
    expect(h.sup.state().queue).toMatchObject({ open_requests: 0, queued: 0, inflight: 0, flights: 0 })
    expect(await cycle.next()).toEqual({ value: undefined, done: true })
  })

  it('answers two next() calls made before either settles, in order', async () => {
    const { h, cycle } = cycleOf(3, 4)
    const first = cycle.next()
    const second = cycle.next()
    h.upstream.succeedAll()
    const [a, b] = await within(Promise.all([first, second]))
    expect([a.value?.rank, b.value?.rank]).toEqual([0, 1])
    expect((await within(cycle.next())).value?.rank).toBe(2)
    expect((await within(cycle.next())).done).toBe(true)
  })

  it('ends next() calls that were waiting when it is stopped', async () => {
    const { cycle } = cycleOf(3, 4)
    const waiting = cycle.next()
    await cycle.return()
    expect(await within(waiting)).toEqual({ value: undefined, done: true })
  })
})
