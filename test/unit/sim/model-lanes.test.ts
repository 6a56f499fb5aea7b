import { describe, expect, it } from 'vitest'
import type { TimerHandle } from '../../../src/clock/clock.js'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import type { GateJob } from '../../../src/sim/model-gate.js'
import { ModelLanes, OVERFLOW_LANE } from '../../../src/sim/model-lanes.js'

class Job implements GateJob {
  timer: TimerHandle | null = null
  loadMs = -1
  doneAt: number | null = null
  constructor(
    readonly clock: ManualClock,
    public costMs: number,
    readonly series = 1,
  ) {}
  modelDone(): void {
    this.doneAt = this.clock.now()
  }
}

const warm = { coldStartMs: 0, keepAliveMs: 300_000 }

describe('ModelLanes in serial mode', () => {
  it('runs two models in parallel: one request each finishes after one cost', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, warm)
    const a = new Job(clock, 40)
    const b = new Job(clock, 40)
    lanes.enter('chronos2', a)
    lanes.enter('timesfm', b)
    clock.advance(40)
    expect([a.doneAt, b.doneAt]).toEqual([40, 40])
  })

  it('serialises two requests for one model: the second finishes after two costs', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, warm)
    const a = new Job(clock, 40)
    const b = new Job(clock, 40)
    lanes.enter('chronos2', a)
    lanes.enter('chronos2', b)
    clock.advance(80)
    expect([a.doneAt, b.doneAt]).toEqual([40, 80])
  })

  it('reports maxConcurrent 1 however many models run at once, and each model its own stats', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, warm)
    for (let i = 0; i < 3; i++) lanes.enter('chronos2', new Job(clock, 10, 2))
    lanes.enter('timesfm', new Job(clock, 25, 7))
    clock.advance(100)
    expect(lanes.summary()).toEqual({
      maxConcurrent: 1,
      coldStarts: 0,
      byModel: {
        chronos2: { requests: 3, series: 6, maxConcurrent: 1, maxQueued: 2, busyMs: 30, coldStarts: 0 },
        timesfm: { requests: 1, series: 7, maxConcurrent: 1, maxQueued: 0, busyMs: 25, coldStarts: 0 },
      },
    })
  })

  it('pays a cold start once per model, each model loading on its own', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, { coldStartMs: 100, keepAliveMs: 300_000 })
    const jobs = [new Job(clock, 10), new Job(clock, 10), new Job(clock, 10)]
    lanes.enter('chronos2', jobs[0] as Job)
    lanes.enter('chronos2', jobs[1] as Job)
    lanes.enter('timesfm', jobs[2] as Job)
    clock.advance(200)
    expect(jobs.map((j) => [j.loadMs, j.doneAt])).toEqual([
      [100, 110],
      [0, 120],
      [100, 110],
    ])
    expect(lanes.summary().coldStarts).toBe(2)
    expect(lanes.summary().byModel.timesfm?.coldStarts).toBe(1)
  })
})

describe('ModelLanes when not serial', () => {
  it('reports the most requests holding one model at once, not all models together', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(false, clock, warm)
    for (let i = 0; i < 3; i++) lanes.enter('chronos2', new Job(clock, 10))
    for (let i = 0; i < 2; i++) lanes.enter('timesfm', new Job(clock, 10))
    expect(lanes.summary().maxConcurrent).toBe(3)
  })
})

describe('ModelLanes bounds', () => {
  it('gives the names beyond the bound one shared, serial lane', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, warm, 2)
    const jobs = ['a', 'b', 'c', 'd'].map((name) => {
      const job = new Job(clock, 10)
      lanes.enter(name, job)
      return job
    })
    lanes.enter('a', new Job(clock, 10))
    clock.advance(100)
    expect(jobs.map((j) => j.doneAt)).toEqual([10, 10, 10, 20])
    expect(Object.keys(lanes.summary().byModel)).toEqual(['a', 'b', OVERFLOW_LANE])
    expect(lanes.summary().byModel.a?.requests).toBe(2)
  })

  it('keeps a model named __proto__ as a plain key of byModel', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, warm)
    lanes.enter('__proto__', new Job(clock, 0))
    const byModel = lanes.summary().byModel
    expect(Object.keys(byModel)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(byModel)).toBe(Object.prototype)
  })
})

describe('ModelLanes reset and close', () => {
  it('zeroes every model counters but keeps each model loaded', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, { coldStartMs: 100, keepAliveMs: 300_000 })
    lanes.enter('chronos2', new Job(clock, 10))
    clock.advance(110)
    lanes.resetStats()
    expect(lanes.summary()).toMatchObject({ maxConcurrent: 0, coldStarts: 0, byModel: { chronos2: { requests: 0, busyMs: 0 } } })
    const again = new Job(clock, 10)
    lanes.enter('chronos2', again)
    clock.advance(10)
    expect(again.loadMs).toBe(0)
  })

  it('completes nothing after close, in any lane', () => {
    const clock = new ManualClock(0)
    const lanes = new ModelLanes(true, clock, warm)
    const a = new Job(clock, 10)
    const b = new Job(clock, 10)
    lanes.enter('chronos2', a)
    lanes.enter('timesfm', b)
    lanes.close()
    expect(clock.pending).toBe(0)
    clock.advance(100)
    expect([a.doneAt, b.doneAt]).toEqual([null, null])
  })
})
