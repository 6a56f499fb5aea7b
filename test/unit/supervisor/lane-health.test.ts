import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { LaneHealthTable, OVERFLOW_LANE, type LaneBreakerTransition, type LaneModeTransition } from '../../../src/supervisor/lane-health.js'

function table(maxLanes: number) {
  const breakers: LaneBreakerTransition[] = []
  const modes: LaneModeTransition[] = []
  const created: string[] = []
  const clock = new ManualClock()
  const t = new LaneHealthTable({
    breaker: DEFAULTS.circuit_breaker,
    degradation: DEFAULTS.degradation,
    clock,
    random: () => 0.5,
    probeTimeoutMs: 1600,
    maxLanes,
    onBreakerTransition: (e) => breakers.push(e),
    onModeTransition: (e) => modes.push(e),
    onNew: (l) => created.push(l),
  })
  return { t, clock, breakers, modes, created }
}

function openIt(t: LaneHealthTable, model: string): void {
  const { breaker } = t.of(model)
  for (let i = 0; i < 5; i++) {
    const p = breaker.tryAcquire()
    if (p !== null) breaker.failure(p)
  }
}

describe('lane health', () => {
  it('gives each model its own breaker: one opening leaves the others closed', () => {
    const x = table(4)
    openIt(x.t, 'a')
    expect(x.t.of('a').breaker.state).toBe('open')
    expect(x.t.of('b').breaker.state).toBe('closed')
    expect(x.breakers.map((e) => `${e.lane}:${e.from}>${e.to}`)).toEqual(['a:closed>open'])
    expect(x.created).toEqual(['a', 'b'])
  })

  it('gives each model its own mode: one lane in baseline-only leaves the others normal', () => {
    const x = table(4)
    x.t.of('a')
    x.t.of('b')
    x.clock.advance(61_000) // a rule judges a complete window only
    for (let i = 0; i < 20; i++) x.t.of('a').mode.record('failure')
    x.t.of('b').mode.record('success')
    expect(x.t.modeOf('a')).toBe('baseline-only')
    expect(x.t.modeOf('b')).toBe('normal')
    expect(x.modes.map((e) => `${e.lane}:${e.to}`)).toEqual(['a:baseline-only'])
  })

  it('stays bounded: past max_lanes a lane with nothing to remember is forgotten', () => {
    const x = table(2)
    x.t.of('a')
    x.t.of('b')
    x.t.of('c')
    expect(Object.keys(x.t.snapshots()).sort()).toEqual(['b', 'c'])
  })

  it('never forgets a lane in trouble: further models share the overflow lane', () => {
    const x = table(2)
    openIt(x.t, 'a')
    openIt(x.t, 'b')
    const c = x.t.of('c')
    expect(x.t.laneOf('c')).toBe(OVERFLOW_LANE)
    expect(c).toBe(x.t.of('d'))
    expect(x.t.of('a').breaker.state).toBe('open')
    expect(x.t.breakerStateOf('zzz')).toBe('closed')
  })

  it('keeps a lane with a call outstanding', () => {
    const x = table(1)
    const a = x.t.of('a')
    a.outstanding++
    expect(x.t.laneOf('b')).toBe(OVERFLOW_LANE)
    a.outstanding--
    expect(x.t.laneOf('b')).toBe('b')
  })
})
