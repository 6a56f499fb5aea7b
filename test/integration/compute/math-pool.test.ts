import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MathPool } from '../../../src/compute/math-pool.js'
import { isTsfmError } from '../../../src/errors.js'
import { computeJob } from '../../../workers/compute.js'
import { warmupJobs } from '../../../workers/math.worker.js'
import type { BaselineJob, MathJob, PostprocessJob } from '../../../workers/protocol.js'
import { mathJobArb, sameResult } from '../../helpers/math-jobs.js'
import { Collector, nextTurn } from './collector.js'

// Threads load dist/workers/math.worker.js: run `npx tsc -p tsconfig.json` first.

const [POST, EWMA, KALMAN, ROLLING] = warmupJobs() as [PostprocessJob, BaselineJob, BaselineJob, BaselineJob]
const JOBS: MathJob[] = [POST, EWMA, KALMAN, ROLLING]

function submit(pool: MathPool, ticket: number, job: MathJob): void {
  if (job.kind === 'postprocess') pool.submitPostprocess(ticket, job)
  else pool.submitBaseline(ticket, job)
}

describe('MathPool on threads (inline threshold 0)', () => {
  const out = new Collector()
  let pool: MathPool
  let answered = 0

  beforeAll(async () => {
    pool = await MathPool.start({ threads: 2, inlineThreshold: 0, sink: out.sink })
  })
  afterAll(async () => {
    await pool.close()
  })

  it('sends all jobs of one turn as one batch and answers each ticket once', async () => {
    const before = pool.stats()
    for (let t = 0; t < 8; t++) submit(pool, t, JOBS[t % 4] as MathJob)
    expect(out.tickets).toEqual([])
    answered += 8
    await out.until(answered)
    expect(out.tickets).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    const after = pool.stats()
    expect(after.batches - before.batches).toBe(1)
    expect(after.inlineBatches).toBe(before.inlineBatches)
    expect(after.jobs - before.jobs).toBe(8)
    expect(after.queued).toBe(0)
    for (let t = 0; t < 8; t++) expect(sameResult(out.results.get(t) as never, computeJob(JOBS[t % 4] as MathJob))).toBe(true)
  })

  it('flushes once per event-loop turn', async () => {
    const before = pool.stats().batches
    submit(pool, 100, POST)
    submit(pool, 101, EWMA)
    await nextTurn()
    submit(pool, 102, KALMAN)
    answered += 3
    await out.until(answered)
    expect(pool.stats().batches - before).toBe(2)
  })

  it('returns bit-identical results on a thread and inline, for random jobs', async () => {
    let ticket = 1000
    await fc.assert(
      fc.asyncProperty(fc.array(mathJobArb, { minLength: 1, maxLength: 16 }), async (jobs) => {
        const first = ticket
        for (const job of jobs) submit(pool, ticket++, job)
        answered += jobs.length
        await out.until(answered)
        jobs.forEach((job, i) => {
          expect(sameResult(out.results.get(first + i) as never, computeJob(job))).toBe(true)
        })
      }),
      { numRuns: 150 },
    )
    expect(out.duplicates()).toEqual([])
    expect(pool.stats().crashes).toBe(0)
  })

  it('computes synchronously on request with the same kernels', () => {
    expect(sameResult(pool.computeInline(EWMA), computeJob(EWMA))).toBe(true)
  })
})

describe('MathPool inline threshold', () => {
  const out = new Collector()
  let pool: MathPool

  beforeAll(async () => {
    pool = await MathPool.start({ threads: 1, inlineThreshold: 4, sink: out.sink })
  })
  afterAll(async () => {
    await pool.close()
  })

  it('computes a turn below the threshold inline, still answering after submit returns', async () => {
    submit(pool, 1, POST)
    submit(pool, 2, EWMA)
    submit(pool, 3, KALMAN)
    expect(out.tickets).toEqual([])
    await out.until(3)
    expect(pool.stats()).toMatchObject({ batches: 0, inlineBatches: 1, jobs: 3, queued: 0 })
    expect(sameResult(out.results.get(2) as never, computeJob(EWMA))).toBe(true)
  })

  it('sends a turn at the threshold to the thread', async () => {
    for (let t = 10; t < 14; t++) submit(pool, t, JOBS[t % 4] as MathJob)
    await out.until(7)
    expect(pool.stats()).toMatchObject({ batches: 1, inlineBatches: 1, jobs: 7 })
  })

  it('answers the first jobs of a turn at once, and leaves the rest of a big turn to the threads', async () => {
    const before = pool.stats()
    const now = [0, 1, 2, 3, 4].map(() => pool.tryInline(EWMA))
    // Below the threshold of 4 a turn runs inline anyway: three answers now, then null.
    expect(now.map((r) => r !== null)).toEqual([true, true, true, false, false])
    for (const r of now.slice(0, 3)) expect(sameResult(r as never, computeJob(EWMA))).toBe(true)
    const answered = out.tickets.length
    for (let t = 0; t < 6; t++) submit(pool, 500 + t, EWMA)
    await out.until(answered + 6)
    expect(pool.stats().batches - before.batches).toBe(1)
    expect(pool.stats().queued).toBe(0)
    await nextTurn()
    expect(pool.tryInline(EWMA)).not.toBeNull()
  })
})

describe('MathPool close', () => {
  it('drains the jobs of the current turn before resolving, then answers later jobs inline', async () => {
    const out = new Collector()
    const pool = await MathPool.start({ threads: 1, inlineThreshold: 0, sink: out.sink })
    for (let t = 0; t < 5; t++) submit(pool, t, JOBS[t % 4] as MathJob)
    const closing = pool.close()
    expect(out.tickets).toEqual([]) // nothing is delivered from inside close()
    await closing
    expect(out.tickets.sort()).toEqual([0, 1, 2, 3, 4])
    expect(pool.stats().queued).toBe(0)

    const inlineBefore = pool.stats().inlineBatches
    submit(pool, 9, ROLLING)
    expect(out.tickets).not.toContain(9)
    await out.until(6)
    expect(sameResult(out.results.get(9) as never, computeJob(ROLLING))).toBe(true)
    expect(pool.stats().inlineBatches).toBe(inlineBefore + 1)
    await pool.close() // idempotent
  })

  it('drains batches already on the thread', async () => {
    const out = new Collector()
    const pool = await MathPool.start({ threads: 1, inlineThreshold: 0, sink: out.sink })
    for (let t = 0; t < 3; t++) submit(pool, t, JOBS[t] as MathJob)
    await nextTurn() // flushed: the batch is on its way to the thread
    expect(pool.stats().batches).toBe(1)
    await pool.close()
    expect(out.tickets).toEqual([0, 1, 2])
  })
})

describe('MathPool start-up and errors', () => {
  it('fails to start, with a clear error, when the worker entry cannot load', async () => {
    const error = await MathPool.start({ threads: 1, inlineThreshold: 0, sink: () => {}, workerFile: '/nonexistent/math.worker.js' }).catch(
      (e: unknown) => e,
    )
    expect(isTsfmError(error) && error.code).toBe('TSFM_INTERNAL')
    expect((error as Error).message).toMatch(/^math threads failed to start: /)
  })

  it('picks one thread per spare core for threads = 0', async () => {
    const pool = await MathPool.start({ threads: 0, inlineThreshold: 0, sink: () => {} })
    expect(pool.threads).toBeGreaterThanOrEqual(1)
    await pool.close()
  })

  it('keeps delivering when the sink throws, and reports the error', async () => {
    const errors: unknown[] = []
    const seen: number[] = []
    const boom = new Error('sink bug')
    let done: () => void = () => {}
    const all = new Promise<void>((resolve) => (done = resolve))
    const pool = await MathPool.start({
      threads: 1,
      inlineThreshold: 0,
      sink: (t) => {
        seen.push(t)
        if (t === 1) throw boom
        if (seen.length === 3) done()
      },
      onError: (e) => errors.push(e),
    })
    for (let t = 0; t < 3; t++) submit(pool, t, POST)
    await all
    expect(seen).toEqual([0, 1, 2])
    expect(errors).toEqual([boom])
    await pool.close()
  })
})

