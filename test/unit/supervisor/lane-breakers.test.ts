import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { LaneBreakers, OVERFLOW_LANE, type LaneBreakerTransition } from '../../../src/supervisor/lane-breakers.js'

function table(maxLanes: number) {
  const events: LaneBreakerTransition[] = []
  const created: string[] = []
  const b = new LaneBreakers(DEFAULTS.circuit_breaker, new ManualClock(), () => 0.5, 1600, maxLanes, (e) => events.push(e), (l) => created.push(l))
  return { b, events, created }
}

function openIt(t: ReturnType<typeof table>, model: string): void {
  const breaker = t.b.of(model)
  for (let i = 0; i < 5; i++) {
    const p = breaker.tryAcquire()
    if (p !== null) breaker.failure(p)
  }
}

describe('lane breakers', () => {
  it('give each model its own breaker: one opening leaves the others closed', () => {
    const t = table(4)
    openIt(t, 'a')
    expect(t.b.of('a').state).toBe('open')
    expect(t.b.of('b').state).toBe('closed')
    expect(t.events.map((e) => `${e.lane}:${e.from}>${e.to}`)).toEqual(['a:closed>open'])
    expect(t.created).toEqual(['a', 'b'])
  })

  it('stay bounded: past max_lanes an idle closed breaker is forgotten', () => {
    const t = table(2)
    t.b.of('a')
    t.b.of('b')
    t.b.of('c')
    expect(Object.keys(t.b.snapshots()).sort()).toEqual(['b', 'c'])
  })

  it('never forget an open breaker: further models share the overflow lane', () => {
    const t = table(2)
    openIt(t, 'a')
    openIt(t, 'b')
    const c = t.b.of('c')
    expect(t.b.laneOf('c')).toBe(OVERFLOW_LANE)
    expect(c).toBe(t.b.of('d'))
    expect(t.b.of('a').state).toBe('open')
    expect(t.b.stateOf('zzz')).toBe('closed')
  })

  it('keep a breaker with a call outstanding', () => {
    const t = table(1)
    const a = t.b.of('a')
    t.b.acquired(a)
    expect(t.b.laneOf('b')).toBe(OVERFLOW_LANE)
    t.b.settled(a)
    expect(t.b.laneOf('b')).toBe('b')
  })
})
