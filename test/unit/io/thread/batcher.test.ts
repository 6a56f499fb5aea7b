import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../../src/clock/manual-clock.js'
import { Batcher, PendingJob, batchKey } from '../../../../src/io/thread/batcher.js'
import type { UpstreamJob } from '../../../../src/io/types.js'
import { makeJob } from '../../../helpers/upstream-jobs.js'

function setup(windowMs = 2, maxSeries = 32) {
  const clock = new ManualClock()
  const flushed: number[][] = []
  const batcher = new Batcher({
    clock,
    windowMs,
    maxSeries,
    postprocessBudgetMs: 50,
    flush: (group) => flushed.push(group.map((p) => p.job.ticket)),
  })
  const add = (over: Partial<UpstreamJob> = {}): number => {
    const job = makeJob(over, clock.now())
    batcher.add(new PendingJob(job, clock.now()))
    return job.ticket
  }
  return { clock, batcher, flushed, add }
}

describe('Batcher', () => {
  it('sends jobs that arrive within the window as one group when the window ends', () => {
    const { clock, flushed, add, batcher } = setup()
    const a = add()
    clock.advance(1)
    const b = add()
    expect(flushed).toEqual([])
    expect(batcher.pending).toBe(2)
    clock.advance(1)
    expect(flushed).toEqual([[a, b]])
    expect(batcher.pending).toBe(0)
  })

  it('starts a new group for a job arriving after the window', () => {
    const { clock, flushed, add } = setup()
    const a = add()
    clock.advance(2)
    const b = add()
    clock.advance(2)
    expect(flushed).toEqual([[a], [b]])
  })

  it('flushes at once when a group reaches batch_max_series', () => {
    const { clock, flushed, add } = setup(2, 3)
    const t = [add(), add(), add(), add()]
    expect(flushed).toEqual([t.slice(0, 3)])
    clock.advance(2)
    expect(flushed).toEqual([t.slice(0, 3), t.slice(3)])
  })

  it('sends every job alone and at once when the window is 0', () => {
    const { flushed, add, batcher } = setup(0)
    const a = add()
    const b = add()
    expect(flushed).toEqual([[a], [b]])
    expect(batcher.pending).toBe(0)
  })

  it('keeps jobs apart that differ in model, horizon, quantiles, freq or options', () => {
    const { clock, flushed, add } = setup()
    const base = add()
    const others = [
      add({ model: 'timesfm' }),
      add({ horizon: 6 }),
      add({ quantiles: [0.05, 0.5, 0.95] }),
      add({ freq: '1h', step_ms: 3_600_000 }),
      add({ params: { num_samples: 10 } }),
    ]
    const same = add({ series_id: 'other-market', space: 'identity', eps: 1e-3 })
    clock.advance(2)
    expect(flushed).toEqual([[base, same], ...others.map((t) => [t])])
  })

  it('does not make a member wait the window when that would cut into its first attempt', () => {
    const { clock, flushed, add } = setup()
    const a = add()
    // 1200 ms attempt + 50 ms post-processing + 2 ms window > 1251 ms left: send a's group now.
    const late = add({ deadline: clock.now() + 1251, attempt_timeout_ms: 1200 })
    expect(flushed).toEqual([[a, late]])
    const ok = add({ deadline: clock.now() + 1252, attempt_timeout_ms: 1200 })
    expect(flushed).toHaveLength(1)
    clock.advance(2)
    expect(flushed).toEqual([[a, late], [ok]])
  })

  it('sends a message\'s groups at once when the upstream is idle, and waits the window when it is busy', () => {
    const { clock, flushed, add, batcher } = setup()
    const a = add()
    const b = add({ horizon: 6 })
    batcher.flushIfIdle(true)
    expect(flushed).toEqual([[a], [b]])
    const c = add()
    const d = add()
    batcher.flushIfIdle(false)
    expect(flushed).toHaveLength(2)
    clock.advance(2)
    expect(flushed).toEqual([[a], [b], [c, d]])
    expect(clock.pending).toBe(0)
  })

  it('sends every waiting group at once on flushAll and cancels the windows', () => {
    const { clock, flushed, add, batcher } = setup()
    const a = add()
    const b = add({ model: 'x' })
    const c = add()
    batcher.flushAll()
    expect(flushed).toEqual([[a, c], [b]])
    expect(clock.pending).toBe(0)
    expect(batcher.pending).toBe(0)
    clock.advance(10)
    expect(flushed).toEqual([[a, c], [b]])
  })

  it('rejects a negative window and a max below 1', () => {
    const clock = new ManualClock()
    const flush = (): void => undefined
    expect(() => new Batcher({ clock, windowMs: -1, maxSeries: 32, postprocessBudgetMs: 50, flush })).toThrow('batch window should be >= 0 ms, got -1')
    expect(() => new Batcher({ clock, windowMs: 2, maxSeries: 0, postprocessBudgetMs: 50, flush })).toThrow('batch max series should be an integer >= 1, got 0')
  })
})

describe('batchKey', () => {
  it('is equal for jobs that may share a request and differs otherwise', () => {
    expect(batchKey(makeJob({ series_id: 'a' }))).toBe(batchKey(makeJob({ series_id: 'b', y: new Float64Array(3) })))
    expect(batchKey(makeJob({ params: { a: 1 } }))).not.toBe(batchKey(makeJob({ params: { a: 2 } })))
    expect(batchKey(makeJob({ quantiles: [0.1, 0.5] }))).not.toBe(batchKey(makeJob({ quantiles: [0.1, 0.50001] })))
  })
})
