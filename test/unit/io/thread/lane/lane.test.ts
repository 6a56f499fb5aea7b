import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../../../src/clock/manual-clock.js'
import type { UpstreamJob } from '../../../../../src/io/types.js'
import { batchKey } from '../../../../../src/io/thread/batch-key.js'
import { Lane, type AttemptObserver, type LaneOptions } from '../../../../../src/io/thread/lane/lane.js'
import { PendingJob } from '../../../../../src/io/thread/pending-job.js'
import type { Cancel } from '../../../../../src/io/thread/cancel.js'
import { HedgeBudget } from '../../../../../src/io/thread/lane/hedge-budget.js'
import { makeJob } from '../../../../helpers/upstream-jobs.js'

interface Sent {
  readonly group: PendingJob[]
  readonly replica: number
  readonly observe: AttemptObserver
  readonly release: () => void
  readonly cancel: Cancel | null
  readonly answer: () => void
}

/** A lane on a manual clock whose upstream the test answers by hand. */
function lane(over: Partial<LaneOptions> = {}) {
  const clock = new ManualClock()
  const sent: Sent[] = []
  const shed: PendingJob[] = []
  const l = new Lane({
    name: 'chronos2',
    clock,
    maxSeries: 4,
    windowMs: 0,
    reserveMs: 50,
    policy: 'predicted',
    queueTimeoutMs: 100,
    limit: { initial: 1, min: 1, max: 1, tolerance: 1.5, queue: 0.5 },
    priorFixedMs: 25,
    priorPerSeriesMs: 1,
    send: (group, replica, observe, release, cancel) => new Promise<void>((answer) => sent.push({ group, replica, observe, release, cancel, answer })),
    shed: (p) => shed.push(p),
    ...over,
  })
  const job = (over: Partial<UpstreamJob> = {}): PendingJob => {
    const j = makeJob({ deadline: clock.now() + 1600, ...over }, clock.now())
    return new PendingJob(j, clock.now(), batchKey(j))
  }
  const add = (...jobs: PendingJob[]): PendingJob[] => {
    for (const p of jobs) l.enqueue(p)
    l.pump()
    return jobs
  }
  /** The upstream answers request `i` after `ms`; the lane hears of it. */
  const answer = async (i: number, ms = 30): Promise<void> => {
    const s = sent[i]!
    s.observe(s.group.length, 1, ms, 'ok')
    for (const p of s.group) p.state = 'settled'
    s.answer()
    await Promise.resolve()
    await Promise.resolve()
  }
  const ids = (s: Sent): string[] => s.group.map((p) => p.job.series_id)
  return { clock, lane: l, sent, shed, job, add, answer, ids }
}

describe('a lane', () => {
  it('sends the jobs of one turn as one request at once when idle', () => {
    const t = lane()
    t.add(t.job(), t.job(), t.job())
    expect(t.sent.map((s) => s.group.length)).toEqual([3])
  })

  it('lets jobs pile up while its slot is busy and sends them as one request when the answer comes (group commit)', async () => {
    const t = lane()
    t.add(t.job())
    t.add(t.job())
    t.add(t.job(), t.job())
    expect(t.sent).toHaveLength(1)
    expect(t.lane.queued).toBe(3)
    await t.answer(0)
    expect(t.sent.map((s) => s.group.length)).toEqual([1, 3])
  })

  it('caps a request at batch_max_series and keeps the rest for the next', async () => {
    const t = lane()
    t.add(...Array.from({ length: 6 }, () => t.job()))
    expect(t.sent.map((s) => s.group.length)).toEqual([4])
    await t.answer(0)
    expect(t.sent.map((s) => s.group.length)).toEqual([4, 2])
  })

  it('serves high-priority jobs first, FIFO within each class', async () => {
    const t = lane({ maxSeries: 2 })
    t.add(t.job({ series_id: 'busy' }))
    t.add(t.job({ series_id: 'a' }), t.job({ series_id: 'b' }), t.job({ series_id: 'urgent', high: true }))
    await t.answer(0)
    expect(t.ids(t.sent[1]!)).toEqual(['urgent', 'a'])
    await t.answer(1)
    expect(t.ids(t.sent[2]!)).toEqual(['b'])
  })

  it('keeps jobs of another batching key for a request of their own', async () => {
    const t = lane()
    t.add(t.job({ series_id: 'busy' }))
    t.add(t.job({ series_id: 'h12' }), t.job({ series_id: 'h6', horizon: 6 }), t.job({ series_id: 'h12b' }))
    await t.answer(0)
    expect(t.ids(t.sent[1]!)).toEqual(['h12', 'h12b'])
    await t.answer(1)
    expect(t.ids(t.sent[2]!)).toEqual(['h6'])
  })

  it('sheds a job at once when its predicted completion no longer fits its deadline', () => {
    // one series a request, one at a time, 400 ms each: the fourth would finish at 1 600 ms
    const t = lane({ maxSeries: 1, priorFixedMs: 399, priorPerSeriesMs: 1 })
    const jobs = t.add(t.job(), t.job(), t.job(), t.job())
    expect(t.sent).toHaveLength(1)
    expect(t.shed).toEqual([jobs[3]])
    expect(t.lane.queued).toBe(2)
    expect(t.lane.snapshot()).toMatchObject({ shed: 1, predicted_wait_ms: 1200 })
  })

  it('sheds what is queued when an answer shows the upstream slower than predicted', async () => {
    const t = lane({ maxSeries: 1, priorFixedMs: 199, priorPerSeriesMs: 1 })
    t.add(t.job(), t.job(), t.job(), t.job())
    expect(t.shed).toHaveLength(0)
    t.clock.advance(600)
    // the request took 600 ms, not 200: the three queued behind it cannot all finish by 1 550
    await t.answer(0, 600)
    expect(t.shed.length).toBeGreaterThan(0)
    expect(t.sent).toHaveLength(2)
  })

  it('sheds a queued job by itself when a hung request never answers', () => {
    const t = lane({ priorFixedMs: 20, priorPerSeriesMs: 0 })
    t.add(t.job())
    const [queued] = t.add(t.job())
    // its last chance: deadline 1 600 − reserve 50 − one request 20
    t.clock.advance(1529)
    expect(t.shed).toEqual([])
    t.clock.advance(1)
    expect(t.shed).toEqual([queued])
  })

  it('sheds after queue_timeout_ms with the fixed policy, whatever it predicts', () => {
    const t = lane({ policy: 'fixed', queueTimeoutMs: 100 })
    t.add(t.job())
    const [queued] = t.add(t.job())
    t.clock.advance(99)
    expect(t.shed).toEqual([])
    t.clock.advance(1)
    expect(t.shed).toEqual([queued])
  })

  it('after an answer, holds a freed slot up to the window for as many jobs as it answered', async () => {
    const t = lane({ windowMs: 5 })
    t.add(t.job(), t.job(), t.job())
    await t.answer(0)
    // the three callers send again, one turn each
    t.add(t.job())
    t.clock.advance(1)
    t.add(t.job())
    expect(t.sent).toHaveLength(1)
    t.add(t.job())
    expect(t.sent.map((s) => s.group.length)).toEqual([3, 3])
  })

  it('sends what it has when the window ends', async () => {
    const t = lane({ windowMs: 5 })
    t.add(t.job(), t.job(), t.job())
    await t.answer(0)
    t.add(t.job())
    t.clock.advance(4)
    expect(t.sent).toHaveLength(1)
    t.clock.advance(1)
    expect(t.sent.map((s) => s.group.length)).toEqual([3, 1])
  })

  it('sends a lone request at once when the last answer was long ago', async () => {
    const t = lane({ windowMs: 5 })
    t.add(t.job(), t.job(), t.job())
    await t.answer(0)
    t.clock.advance(50)
    t.add(t.job())
    expect(t.sent).toHaveLength(2)
  })

  it('lets a withdrawn job leave its queue unsent', async () => {
    const t = lane()
    t.add(t.job())
    const [gone, kept] = t.add(t.job(), t.job())
    t.lane.withdraw(gone!)
    await t.answer(0)
    expect(t.sent[1]!.group).toEqual([kept])
  })

  it('frees its slot when a request enters a retry backoff', () => {
    const t = lane()
    t.add(t.job())
    t.add(t.job())
    expect(t.sent).toHaveLength(1)
    t.sent[0]!.release()
    expect(t.sent).toHaveLength(2)
  })

  it('sends everything queued at once when closing, whatever its limit', () => {
    const t = lane()
    t.add(t.job())
    t.add(...Array.from({ length: 9 }, () => t.job()))
    t.lane.flushAll()
    expect(t.sent.map((s) => s.group.length)).toEqual([1, 4, 4, 1])
  })

  it('learns its cost from requests sent while nothing else was in flight', async () => {
    const t = lane()
    t.add(t.job(), t.job())
    await t.answer(0, 90)
    expect(t.lane.cost.samples).toBe(1)
    expect(t.lane.cost.costMs(2)).toBeCloseTo(90, 6)
  })
})

describe('a lane with two replicas', () => {
  const two = { replicas: ['m@a', 'm@b'], limit: { initial: 2, min: 1, max: 2, tolerance: 1.5, queue: 0.5 }, random: () => 0.5 }

  it('sends the next batch to the replica predicted to finish it first', () => {
    const t = lane(two)
    t.add(t.job())
    t.add(t.job())
    // the first replica is busy, the second idle: it takes the second batch at once
    expect(t.sent.map((s) => s.replica)).toEqual([0, 1])
  })

  it('splits jobs that arrive together over the idle replicas instead of leaving one idle', () => {
    const t = lane({ ...two, maxSeries: 8 })
    const jobs = t.add(...Array.from({ length: 5 }, () => t.job()))
    expect(t.sent.map((s) => s.group.length)).toEqual([2, 3])
    expect(new Set(t.sent.map((s) => s.replica))).toEqual(new Set([0, 1]))
    expect(t.sent.flatMap((s) => s.group)).toEqual(jobs)
  })

  it('sends a queue whole when the other replica is busy, or would take longer with half of it', () => {
    const busy = lane({ ...two, maxSeries: 8 })
    busy.add(busy.job())
    busy.add(...Array.from({ length: 4 }, () => busy.job()))
    expect(busy.sent.map((s) => s.group.length)).toEqual([1, 4])

    const slow = lane({ ...two, maxSeries: 8 })
    for (let i = 0; i < 20; i++) slow.lane.replica(1).cost.observe(1 + (i % 4), 400) // b: ~400 ms a request
    slow.add(...Array.from({ length: 4 }, () => slow.job()))
    expect(slow.sent.map((s) => [s.replica, s.group.length])).toEqual([[0, 4]])
  })

  it('with every replica idle, holds for the callers its replicas just answered instead of sending the first back alone', async () => {
    const t = lane({ ...two, maxSeries: 8, windowMs: 30 })
    t.add(...Array.from({ length: 4 }, () => t.job()))
    expect(t.sent.map((s) => s.group.length)).toEqual([2, 2])
    t.clock.advance(30)
    await t.answer(0)
    await t.answer(1)
    // four callers are on their way back: the first waits for its replica's share
    t.add(t.job())
    expect(t.sent).toHaveLength(2)
    t.add(t.job())
    expect(t.sent.slice(2).map((s) => s.group.length)).toEqual([2])
    t.add(t.job(), t.job())
    expect(t.sent.slice(2).map((s) => s.group.length)).toEqual([2, 2])
    // nobody else comes back: a lone caller waits at most the window
    await t.answer(2)
    await t.answer(3)
    t.clock.advance(31)
    t.add(t.job())
    expect(t.sent.slice(4).map((s) => s.group.length)).toEqual([1])
  })

  it('when busy, holds the just-in-time request for its share of the callers, at most the window past the running one', () => {
    const t = lane({ ...two, maxSeries: 16, windowMs: 30, limit: { initial: 2, min: 2, max: 2, tolerance: 1.5, queue: 0.5 } })
    t.add(...Array.from({ length: 4 }, () => t.job()))
    expect(t.sent.map((s) => s.group.length)).toEqual([2, 2]) // each replica runs one (27 ms predicted)
    t.clock.advance(26) // past the just-in-time moment of both
    t.add(t.job())
    expect(t.sent).toHaveLength(2) // 1 queued of a share of ceil((4 + 1) / 2)
    t.add(t.job(), t.job(), t.job())
    expect(t.sent.slice(2).map((s) => s.group.length)).toEqual([4]) // 4 of ceil((4 + 4) / 2)
    t.add(t.job())
    t.clock.advance(31) // 27 ms + the 30 ms window: it goes with what it has
    expect(t.sent.slice(3).map((s) => s.group.length)).toEqual([1])
  })

  it('counts a request past its predicted end as late again as it already is: the next batch goes to the other replica', async () => {
    const t = lane({ ...two, limit: { initial: 2, min: 2, max: 2, tolerance: 1.5, queue: 0.5 } })
    t.add(t.job())
    t.add(t.job())
    expect(t.sent.map((s) => s.replica)).toEqual([0, 1])
    // b answers in 30 ms; a's request, predicted at ~26 ms, is still out 500 ms later: stalled
    t.clock.advance(30)
    await t.answer(1, 30)
    t.clock.advance(470)
    t.add(t.job())
    expect(t.sent[2]!.replica).toBe(1)
    t.add(t.job())
    expect(t.sent[3]?.replica ?? 1).toBe(1) // never pipelined behind the stall
  })

  it('sends nothing more to a replica whose connection was refused, and moves its retry elsewhere', async () => {
    const t = lane(two)
    t.add(t.job())
    t.add(t.job())
    t.sent[1]!.observe(1, 1, 1, 'drop', 'upstream_unavailable')
    expect(t.lane.replica(1).health.state).toBe('down')
    expect(t.lane.alternativeTo(1)).toBe(0)
    await t.answer(0)
    t.add(t.job())
    t.add(t.job())
    expect(t.sent.slice(2).every((s) => s.replica === 0)).toBe(true)
  })

  it('labels each replica in its stats', () => {
    const t = lane(two)
    const out: ReturnType<typeof t.lane.snapshot>[] = []
    t.lane.snapshots(out)
    expect(out.map((s) => s.lane)).toEqual(['m@a', 'm@b'])
  })
})

describe('hedging on a lane with two replicas', () => {
  interface Hedged {
    readonly members: PendingJob[]
    readonly replica: number
    readonly cancel: Cancel
    readonly done: (all: boolean) => void
  }
  const hedging = (over: Partial<LaneOptions> = {}) => {
    const hedges: Hedged[] = []
    const t = lane({
      replicas: ['m@a', 'm@b'],
      limit: { initial: 2, min: 1, max: 2, tolerance: 1.5, queue: 0.5 },
      random: () => 0.5,
      hedgeAfterMs: 'adaptive',
      hedgeBudget: new HedgeBudget(),
      hedge: (members, replica, cancel) => new Promise<boolean>((done) => hedges.push({ members, replica, cancel, done })),
      ...over,
    })
    return { ...t, hedges }
  }

  it('sends the unanswered high-priority members of a slow batch to the other replica after 300 ms at least', () => {
    const t = hedging()
    t.add(t.job()) // one replica busy: the next two jobs leave together, to the other
    const [high, normal] = t.add(t.job({ high: true }), t.job())
    expect(t.sent).toHaveLength(2)
    expect(t.sent[1]!.group).toEqual([high, normal])
    t.clock.advance(299)
    expect(t.hedges).toHaveLength(0)
    t.clock.advance(1)
    expect(t.hedges).toHaveLength(1)
    expect(t.hedges[0]!.replica).toBe(1 - t.sent[1]!.replica)
    expect(t.hedges[0]!.members).toEqual([high])
    expect(t.hedges[0]!.members).not.toContain(normal)
  })

  it('cancels the original when its hedge answered every member, and the hedge when the original answered first', async () => {
    const t = hedging()
    const [only] = t.add(t.job({ high: true }))
    t.clock.advance(300)
    const own = t.sent[0]!
    only!.settled = true // the hedge answered it (the engine settles once)
    t.hedges[0]!.done(true)
    await Promise.resolve()
    await Promise.resolve()
    // the original's cancel handle was aborted: its attempt ends now, quietly
    expect(own.cancel?.cancelled).toBe(true)
    const u = hedging()
    u.add(u.job({ high: true }))
    u.clock.advance(300)
    await u.answer(0)
    expect(u.hedges[0]!.cancel.cancelled).toBe(true)
  })

  it('does not hedge normal-priority batches, one replica, or past its budget', () => {
    const normal = hedging()
    normal.add(normal.job())
    normal.clock.advance(2000)
    expect(normal.hedges).toHaveLength(0)

    const single = hedging({ replicas: ['m'] })
    single.add(single.job({ high: true }))
    single.clock.advance(2000)
    expect(single.hedges).toHaveLength(0)

    const broke = hedging({ hedgeBudget: new HedgeBudget(0.05, 1) })
    broke.add(broke.job({ high: true }))
    broke.add(broke.job({ high: true, model: 'x' }))
    broke.clock.advance(2000)
    expect(broke.hedges).toHaveLength(1)
  })
})

describe('the hedge budget', () => {
  it('allows one hedge per twenty upstream requests once its burst is spent', () => {
    const b = new HedgeBudget(0.05, 1)
    expect(b.take()).toBe(true)
    expect(b.take()).toBe(false)
    for (let i = 0; i < 19; i++) b.earn()
    expect(b.take()).toBe(false)
    b.earn()
    expect(b.take()).toBe(true)
  })
})
