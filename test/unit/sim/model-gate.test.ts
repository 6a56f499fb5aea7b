import { describe, expect, it } from 'vitest'
import type { TimerHandle } from '../../../src/clock/clock.js'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { ModelGate, type GateJob } from '../../../src/sim/model-gate.js'

class Job implements GateJob {
  timer: TimerHandle | null = null
  constructor(
    readonly name: string,
    public costMs: number,
    readonly done: string[],
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

  it('resets the high-water mark to what is running now', () => {
    const clock = new ManualClock()
    const gate = new ModelGate(false, clock)
    const done: string[] = []
    for (let i = 0; i < 3; i++) gate.enter(new Job(String(i), 10, done))
    clock.advance(10)
    gate.enter(new Job('x', 10, done))
    gate.resetMax()
    expect(gate.maxConcurrent).toBe(1)
  })
})
