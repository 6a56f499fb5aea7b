import { describe, expect, it } from 'vitest'
import type { TimerHandle } from '../../../src/clock/clock.js'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { ModelGate, type GateJob } from '../../../src/sim/model-gate.js'

class Job implements GateJob {
  timer: TimerHandle | null = null
  loadMs = -1
  constructor(
    readonly name: string,
    public costMs: number,
    readonly done: string[],
    readonly series = 1,
  ) {}
  modelDone(): void {
    this.done.push(this.name)
  }
}

describe('ModelGate', () => {
  it('in serial mode holds the model for one job at a time, first in first out', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock)
    const done: string[] = []
    for (const name of ['a', 'b', 'c']) gate.enter(new Job(name, 10, done))
    expect([gate.running, gate.queued]).toEqual([1, 2])
    clock.advance(9)
    expect(done).toEqual([])
    clock.advance(1)
    expect(done).toEqual(['a'])
    clock.advance(10)
    expect(done).toEqual(['a', 'b'])
    clock.advance(10)
    expect(done).toEqual(['a', 'b', 'c'])
    expect(gate.maxConcurrent).toBe(1)
  })

  it('in serial mode, n jobs of cost c take n·c in total', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock)
    const done: string[] = []
    for (let i = 0; i < 32; i++) gate.enter(new Job(String(i), 42.9, done))
    clock.advance(32 * 42.9 - 0.01)
    expect(done).toHaveLength(31)
    clock.advance(0.01)
    expect(done).toHaveLength(32)
  })

  it('runs every job at once when not serial', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(false, clock)
    const done: string[] = []
    gate.enter(new Job('slow', 30, done))
    gate.enter(new Job('fast', 10, done))
    expect(gate.running).toBe(2)
    clock.advance(30)
    expect(done).toEqual(['fast', 'slow'])
    expect(gate.maxConcurrent).toBe(2)
  })

  it('finishes zero-cost jobs at once, draining a queue without recursion', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock)
    const done: string[] = []
    gate.enter(new Job('head', 5, done))
    for (let i = 0; i < 50_000; i++) gate.enter(new Job('z', 0, done))
    clock.advance(5)
    expect(done).toHaveLength(50_001)
    expect(gate.queued).toBe(0)
  })

  it('completes nothing after close', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock)
    const done: string[] = []
    gate.enter(new Job('a', 10, done))
    gate.enter(new Job('b', 10, done))
    gate.close()
    expect(clock.pending).toBe(0)
    clock.advance(100)
    gate.enter(new Job('c', 0, done))
    expect(done).toEqual([])
  })

  it('resets the high-water marks to what is running and queued now, and the counters to 0', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(false, clock)
    const done: string[] = []
    for (let i = 0; i < 3; i++) gate.enter(new Job(String(i), 10, done))
    clock.advance(10)
    gate.enter(new Job('x', 10, done))
    gate.resetStats()
    expect(gate.maxConcurrent).toBe(1)
    expect(gate.stats()).toEqual({ requests: 0, series: 0, maxConcurrent: 1, maxQueued: 0, busyMs: 0, coldStarts: 0 })
    clock.advance(4)
    expect(gate.stats().busyMs).toBe(4)
  })

  it('keeps a job entered while the queue drains behind the queue (first in, first out)', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock)
    const done: string[] = []
    const late = new Job('late', 0, done)
    class Enterer extends Job {
      override modelDone(): void {
        super.modelDone()
        gate.enter(late)
      }
    }
    gate.enter(new Job('head', 5, done))
    gate.enter(new Enterer('first-queued', 0, done))
    gate.enter(new Job('second-queued', 0, done))
    clock.advance(5)
    expect(done).toEqual(['head', 'first-queued', 'second-queued', 'late'])
  })
})

describe('ModelGate stats', () => {
  it('counts requests, series and the longest queue, and the time the model was held', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock)
    const done: string[] = []
    gate.enter(new Job('a', 10, done, 3))
    gate.enter(new Job('b', 20, done, 5))
    gate.enter(new Job('c', 5, done, 1))
    clock.advance(15)
    expect(gate.stats()).toEqual({ requests: 3, series: 9, maxConcurrent: 1, maxQueued: 2, busyMs: 15, coldStarts: 0 })
    clock.advance(100)
    // Busy 35 ms out of 115: idle time does not count.
    expect(gate.stats().busyMs).toBe(35)
  })

  it('counts overlapping jobs once in the busy time when not serial', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(false, clock)
    const done: string[] = []
    gate.enter(new Job('a', 10, done))
    clock.advance(5)
    gate.enter(new Job('b', 10, done))
    clock.advance(50)
    expect(gate.stats()).toMatchObject({ maxConcurrent: 2, maxQueued: 0, busyMs: 15 })
  })
})

describe('ModelGate cold starts', () => {
  const params = { coldStartMs: 100, keepAliveMs: 1000 }

  it('holds the model for the load plus the cost on the first job, then the cost alone', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock, params)
    const done: string[] = []
    const first = new Job('first', 10, done)
    const second = new Job('second', 10, done)
    gate.enter(first)
    gate.enter(second)
    clock.advance(109)
    expect(done).toEqual([])
    clock.advance(1)
    expect(done).toEqual(['first'])
    clock.advance(10)
    expect(done).toEqual(['first', 'second'])
    expect([first.loadMs, second.loadMs]).toEqual([100, 0])
    expect(gate.stats()).toMatchObject({ coldStarts: 1, busyMs: 120 })
  })

  it('loads the model again for the first job after an idle keep-alive', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(true, clock, params)
    const done: string[] = []
    const jobs = [new Job('cold', 10, done), new Job('warm', 10, done), new Job('cold-again', 10, done)]
    gate.enter(jobs[0] as Job)
    clock.advance(110 + 999)
    gate.enter(jobs[1] as Job)
    clock.advance(10 + 1000)
    gate.enter(jobs[2] as Job)
    clock.advance(110)
    expect(jobs.map((j) => j.loadMs)).toEqual([100, 0, 100])
    expect(done).toEqual(['cold', 'warm', 'cold-again'])
    expect(gate.stats().coldStarts).toBe(2)
  })

  it('reads the cold start and keep-alive at each acquisition (they change at run time)', () => {
    const clock = new ManualClock()
    const live = { coldStartMs: 0, keepAliveMs: 1000 }
    const gate = new ModelGate(true, clock, live)
    const done: string[] = []
    const a = new Job('a', 10, done)
    gate.enter(a)
    clock.advance(10)
    live.coldStartMs = 50
    live.keepAliveMs = 0
    const b = new Job('b', 10, done)
    gate.enter(b)
    clock.advance(60)
    expect([a.loadMs, b.loadMs]).toEqual([0, 50])
    expect(gate.stats().coldStarts).toBe(1)
  })

  it('when not serial, makes a job that arrives during the load wait for the rest of it only', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(false, clock, params)
    const done: string[] = []
    const first = new Job('first', 10, done)
    const joiner = new Job('joiner', 10, done)
    gate.enter(first)
    clock.advance(40)
    gate.enter(joiner)
    clock.advance(70)
    expect(done).toEqual(['first', 'joiner'])
    expect([first.loadMs, joiner.loadMs]).toEqual([100, 60])
    expect(gate.stats()).toMatchObject({ coldStarts: 1, maxConcurrent: 2, busyMs: 110 })
  })
})
