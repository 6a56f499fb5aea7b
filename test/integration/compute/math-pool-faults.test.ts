import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MathPool } from '../../../src/compute/math-pool.js'
import { computeJob } from '../../../workers/compute.js'
import { warmupJobs } from '../../../workers/math.worker.js'
import type { MathJob } from '../../../workers/protocol.js'
import { sameResult } from '../../helpers/math-jobs.js'
import { Collector, nextTurn } from './collector.js'

// The chaos entry wraps dist/workers/math.worker.js: run `npx tsc -p tsconfig.json` first.
const CHAOS = fileURLToPath(new URL('./fixtures/chaos-math.worker.mjs', import.meta.url))
// Slots of the shared counters (see the fixture).
const CRASHES = 0
const GARBAGE = 1
const GATED = 2
const OPEN = 3
const WAITING = 4

const JOBS = warmupJobs()

interface Chaos {
  pool: MathPool
  out: Collector
  slots: Int32Array
}

async function chaosPool(arm: Partial<Record<number, number>>, opts: { maxQueue?: number } = {}): Promise<Chaos> {
  const slots = new Int32Array(new SharedArrayBuffer(5 * 4))
  const out = new Collector()
  const pool = await MathPool.start({
    threads: 1,
    inlineThreshold: 0,
    sink: out.sink,
    workerFile: CHAOS,
    workerData: { counters: slots.buffer },
    warmupRounds: 1,
    ...opts,
  })
  // Armed after start, so the warm-up tasks are not affected.
  for (const [slot, value] of Object.entries(arm)) Atomics.store(slots, Number(slot), value as number)
  return { pool, out, slots }
}

function submitAll(pool: MathPool, first: number, jobs: readonly MathJob[]): void {
  jobs.forEach((job, i) => {
    if (job.kind === 'postprocess') pool.submitPostprocess(first + i, job)
    else pool.submitBaseline(first + i, job)
  })
}

function expectAnswered(out: Collector, first: number, jobs: readonly MathJob[]): void {
  jobs.forEach((job, i) => expect(sameResult(out.results.get(first + i) as never, computeJob(job))).toBe(true))
  expect(out.duplicates()).toEqual([])
}

// Atomics.waitAsync is in Node 20 but not in the ES2023 lib this project compiles against.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string } }).waitAsync

/** Resolves once `n` runBatch calls wait at the fixture's gate. */
async function waitingAtGate(slots: Int32Array, n: number): Promise<void> {
  for (;;) {
    const now = Atomics.load(slots, WAITING)
    if (now >= n) return
    await waitAsync(slots, WAITING, now).value
  }
}

function openGate(slots: Int32Array): void {
  Atomics.store(slots, OPEN, 1)
  Atomics.notify(slots, OPEN)
}

describe('MathPool when a thread dies', () => {
  it('re-runs the batch once on a replacement thread', async () => {
    const { pool, out } = await chaosPool({ [CRASHES]: 1 })
    submitAll(pool, 0, JOBS)
    await out.until(JOBS.length)
    expectAnswered(out, 0, JOBS)
    expect(pool.stats()).toMatchObject({ batches: 2, inlineBatches: 0, crashes: 1, restarts: 1, queued: 0 })
    await pool.close()
  })

  it('answers inline when the re-run dies too, and keeps serving on a fresh thread', async () => {
    const { pool, out } = await chaosPool({ [CRASHES]: 2 })
    submitAll(pool, 0, JOBS)
    await out.until(JOBS.length)
    expectAnswered(out, 0, JOBS)
    expect(pool.stats()).toMatchObject({ batches: 2, inlineBatches: 1, crashes: 2 })

    // The next batch waits for the thread Piscina started after the second death.
    submitAll(pool, 10, JOBS)
    await out.until(2 * JOBS.length)
    expectAnswered(out, 10, JOBS)
    expect(pool.stats()).toMatchObject({ batches: 3, inlineBatches: 1, crashes: 2, restarts: 2, queued: 0 })
    await pool.close()
  })

  it('treats a malformed answer as a failed batch and re-runs it', async () => {
    const { pool, out } = await chaosPool({ [GARBAGE]: 1 })
    submitAll(pool, 0, JOBS)
    await out.until(JOBS.length)
    expectAnswered(out, 0, JOBS)
    expect(pool.stats()).toMatchObject({ batches: 2, crashes: 1, restarts: 0 })
    await pool.close()
  })
})

describe('MathPool backpressure and drain', () => {
  it('holds later turns while the threads are saturated, then sends them as one batch', async () => {
    const { pool, out, slots } = await chaosPool({ [GATED]: 1 }, { maxQueue: 1 })
    submitAll(pool, 0, JOBS) // turn A: dispatched, then blocked at the gate
    await waitingAtGate(slots, 1)
    submitAll(pool, 10, JOBS) // turn B: held
    await nextTurn()
    submitAll(pool, 20, JOBS) // turn C: held, joins B
    await nextTurn()
    expect(pool.stats()).toMatchObject({ batches: 1, queued: 3 * JOBS.length })
    openGate(slots)
    await out.until(3 * JOBS.length)
    expect(pool.stats()).toMatchObject({ batches: 2, inlineBatches: 0, queued: 0 })
    expectAnswered(out, 0, JOBS)
    expectAnswered(out, 10, JOBS)
    expectAnswered(out, 20, JOBS)
    await pool.close()
  })

  it('close waits for a batch on a thread, answers held jobs inline, and drops nothing', async () => {
    const { pool, out, slots } = await chaosPool({ [GATED]: 1 }, { maxQueue: 1 })
    submitAll(pool, 0, JOBS)
    await waitingAtGate(slots, 1)
    submitAll(pool, 10, JOBS) // held behind the gated batch
    await nextTurn()
    let closed = false
    const closing = pool.close().then(() => (closed = true))
    await nextTurn()
    // the held turn was computed inline at once; the gated batch is still out
    expect(out.tickets.sort((a, b) => a - b)).toEqual([10, 11, 12, 13])
    expect(closed).toBe(false)
    openGate(slots)
    await closing
    expect(out.tickets.length).toBe(2 * JOBS.length)
    expectAnswered(out, 0, JOBS)
    expect(pool.stats()).toMatchObject({ batches: 1, queued: 0 })
  })
})
