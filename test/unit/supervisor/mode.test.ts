import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import type { DegradationConfig } from '../../../src/config/types.js'
import { isTsfmError } from '../../../src/errors.js'
import { ModeMachine, nextMode, type Mode, type ModeTransition, type ShareView } from '../../../src/supervisor/mode.js'

const CFG = DEFAULTS.degradation
const MIN = 60_000

function setup(config: DegradationConfig = CFG) {
  const clock = new ManualClock()
  const events: ModeTransition[] = []
  const machine = new ModeMachine(config, clock, (e) => events.push(e))
  return { clock, machine, events, T0: clock.now() }
}

/** Outcomes sent to each machine so far, so that a pattern continues across `traffic` calls. */
const sent = new WeakMap<ModeMachine, number>()

/** Client traffic: `perSecond` outcomes each second, of which `fail` in every `of` are failures. */
function traffic(m: ModeMachine, clock: ManualClock, seconds: number, perSecond: number, fail: number, of: number): void {
  let k = sent.get(m) ?? 0
  for (let s = 0; s < seconds; s++) {
    clock.advance(1000)
    for (let j = 0; j < perSecond; j++, k++) m.record(k % of < fail ? 'failure' : 'success')
    m.evaluate()
  }
  sent.set(m, k)
}

/** No client traffic: a tick each second, and the periodic probe whenever it is due. */
function probesOnly(m: ModeMachine, clock: ManualClock, seconds: number, upstreamOk: () => boolean): void {
  for (let s = 0; s < seconds; s++) {
    clock.advance(1000)
    m.evaluate()
    if (m.probeDue()) m.record(upstreamOk() ? 'success' : 'failure')
  }
}

/** Normal → degraded with 25 % failures over exactly 3 minutes. */
function toDegraded(m: ModeMachine, clock: ManualClock): void {
  traffic(m, clock, 180, 1, 1, 4)
  expect(m.mode.kind).toBe('degraded')
}

/** Normal → baseline-only by the fast trip: all failures for a minute. */
function toBaselineOnly(m: ModeMachine, clock: ManualClock): void {
  traffic(m, clock, 60, 1, 1, 1)
  expect(m.mode.kind).toBe('baseline-only')
}

describe('ModeMachine', () => {
  it('starts in normal mode with retries, the normal timeout and no probes', () => {
    const { machine, T0 } = setup()
    expect(machine.mode).toEqual({ kind: 'normal', since: T0, share: 0, window_s: 0 })
    expect(machine.attemptTimeoutMs(1200)).toBe(1200)
    expect(machine.maxRetries(1)).toBe(1)
    expect(machine.shouldProbe()).toBe(false)
    expect(machine.probeDue()).toBe(false)
  })

  it('enters degraded when at least 25 % failed over the last 3 minutes', () => {
    const { machine, clock, events, T0 } = setup()
    traffic(machine, clock, 179, 1, 1, 4)
    expect(machine.mode.kind).toBe('normal')
    traffic(machine, clock, 1, 1, 1, 4)
    expect(events).toEqual([{ from: 'normal', to: 'degraded', at: T0 + 3 * MIN, share: 0.25, window_s: 180 }])
    expect(machine.mode).toEqual({ kind: 'degraded', since: T0 + 3 * MIN, share: 0.25, window_s: 180 })
  })

  it('stays normal at 20 % failures', () => {
    const { machine, clock, events } = setup()
    traffic(machine, clock, 1800, 2, 1, 5)
    expect(events).toEqual([])
  })

  it('judges no rule with fewer than min_requests events in its window', () => {
    const { machine, clock } = setup()
    // one failure every 40 s: at most 8 events in 5 minutes, every one of them a failure
    for (let s = 1; s <= 1800; s++) {
      clock.advance(1000)
      if (s % 40 === 0) machine.record('failure')
      machine.evaluate()
    }
    expect(machine.mode.kind).toBe('normal')
  })

  it('trips fast from normal to baseline-only when at least 80 % failed over the last minute', () => {
    const { machine, clock, events, T0 } = setup()
    traffic(machine, clock, 59, 2, 4, 5)
    expect(machine.mode.kind).toBe('normal')
    traffic(machine, clock, 1, 2, 4, 5)
    // the first outcome of second 60 completes the window and trips it: 96 failures of 119
    expect(events).toEqual([{ from: 'normal', to: 'baseline-only', at: T0 + MIN, share: 96 / 119, window_s: 60 }])
  })

  it('trips fast from degraded to baseline-only one minute after entering degraded', () => {
    const { machine, clock, events } = setup()
    toDegraded(machine, clock)
    const d = machine.mode.since
    traffic(machine, clock, 59, 1, 1, 1)
    expect(machine.mode.kind).toBe('degraded')
    traffic(machine, clock, 1, 1, 1, 1)
    expect(events[1]).toEqual({ from: 'degraded', to: 'baseline-only', at: d + MIN, share: 1, window_s: 60 })
  })

  it('enters baseline-only from degraded when at least 50 % failed over the last 5 minutes', () => {
    const { machine, clock, events } = setup()
    toDegraded(machine, clock)
    const d = machine.mode.since
    traffic(machine, clock, 299, 1, 1, 2)
    expect(machine.mode.kind).toBe('degraded')
    traffic(machine, clock, 1, 1, 1, 2)
    expect(events[1]).toEqual({ from: 'degraded', to: 'baseline-only', at: d + 5 * MIN, share: 0.5, window_s: 300 })
  })

  it('enters baseline-only rather than degraded when both rules match', () => {
    const { machine, clock, events, T0 } = setup({ ...CFG, degraded_enter_window_s: 300 })
    traffic(machine, clock, 300, 1, 3, 5)
    expect(events).toEqual([{ from: 'normal', to: 'baseline-only', at: T0 + 5 * MIN, share: 0.6, window_s: 300 }])
  })

  it('returns from degraded to normal after 10 minutes under 15 % with the health probe green', () => {
    const { machine, clock, events } = setup()
    toDegraded(machine, clock)
    const d = machine.mode.since
    traffic(machine, clock, 599, 1, 1, 10)
    expect(machine.mode.kind).toBe('degraded')
    traffic(machine, clock, 1, 1, 1, 10)
    expect(events[1]).toEqual({ from: 'degraded', to: 'normal', at: d + 10 * MIN, share: 0.1, window_s: 600 })
    expect(machine.attemptTimeoutMs(1200)).toBe(1200)
    expect(machine.maxRetries(1)).toBe(1)
  })

  it('stays degraded at exactly 15 % failures', () => {
    const { machine, clock, events } = setup()
    toDegraded(machine, clock)
    traffic(machine, clock, 1800, 1, 3, 20)
    expect(events.length).toBe(1)
  })

  it('stays degraded while the health probe is red and returns to normal as soon as it turns green', () => {
    const { machine, clock, events } = setup()
    toDegraded(machine, clock)
    machine.setHealth(false)
    traffic(machine, clock, 900, 1, 0, 1)
    expect(machine.mode.kind).toBe('degraded')
    machine.setHealth(true)
    expect(events[1]).toMatchObject({ from: 'degraded', to: 'normal', at: clock.now(), share: 0 })
  })

  it('uses no retries and a 900 ms attempt timeout in degraded and baseline-only mode', () => {
    const { machine, clock } = setup()
    toDegraded(machine, clock)
    expect([machine.attemptTimeoutMs(1200), machine.maxRetries(1)]).toEqual([900, 0])
    expect(machine.attemptTimeoutMs(500)).toBe(500) // never longer than the normal timeout
    traffic(machine, clock, 60, 1, 1, 1)
    expect(machine.mode.kind).toBe('baseline-only')
    expect([machine.attemptTimeoutMs(1200), machine.maxRetries(1)]).toEqual([900, 0])
  })

  it('sends one client request in probe_every_n_requests upstream in baseline-only mode', () => {
    const { machine, clock } = setup()
    toBaselineOnly(machine, clock)
    const picks: number[] = []
    for (let i = 1; i <= 45; i++) if (machine.shouldProbe()) picks.push(i)
    expect(picks).toEqual([20, 40])
  })

  it('asks for a periodic probe every probe_interval_s in degraded and baseline-only mode only', () => {
    const { machine, clock } = setup()
    const due: number[] = []
    const watch = (seconds: number): void => {
      for (let s = 0; s < seconds; s++) {
        clock.advance(1000)
        if (machine.probeDue()) due.push(machine.mode.kind === 'normal' ? -1 : s)
      }
    }
    watch(30)
    expect(due).toEqual([])
    toDegraded(machine, clock)
    watch(12)
    expect(due).toEqual([0, 5, 10])
    expect(machine.probeDue()).toBe(false)
  })

  it('leaves baseline-only for degraded when the probes fail under 25 % over the last 2 minutes', () => {
    const { machine, clock, events } = setup()
    toBaselineOnly(machine, clock)
    const b = machine.mode.since
    probesOnly(machine, clock, 119, () => true)
    expect(machine.mode.kind).toBe('baseline-only')
    probesOnly(machine, clock, 1, () => true)
    expect(events[1]).toEqual({ from: 'baseline-only', to: 'degraded', at: b + 2 * MIN, share: 0, window_s: 120 })
  })

  it('stays in baseline-only while a third of the probes fail', () => {
    const { machine, clock } = setup()
    toBaselineOnly(machine, clock)
    let n = 0
    probesOnly(machine, clock, 1800, () => n++ % 3 !== 0)
    expect(machine.mode.kind).toBe('baseline-only')
  })

  it('counts only probes in baseline-only mode: a result of a call started before the switch is ignored', () => {
    const { machine, clock, T0 } = setup()
    toBaselineOnly(machine, clock)
    clock.advance(5_000)
    const startedInNormal = T0 + 30_000
    for (let i = 0; i < 50; i++) machine.record('success', startedInNormal)
    expect(machine.snapshot()).toMatchObject({ mode: 'baseline-only', events: 0, failures: 0 })
    clock.advance(2 * MIN)
    expect(machine.evaluate().kind).toBe('baseline-only')
  })

  it('baseline-only recovers with zero client traffic once the health probe is green', () => {
    const { machine, clock, events, T0 } = setup()
    toBaselineOnly(machine, clock)
    machine.setHealth(false)
    let healed = false
    probesOnly(machine, clock, 600, () => healed) // ten more minutes of outage: every probe fails
    expect(machine.mode.kind).toBe('baseline-only')
    const heal = clock.now()
    healed = true
    machine.setHealth(true)
    probesOnly(machine, clock, 30 * 60, () => healed)
    expect(events.map((e) => `${e.from}>${e.to}`)).toEqual(['normal>baseline-only', 'baseline-only>degraded', 'degraded>normal'])
    // probes every 5 s; each tick evaluates before that second's probe, so the window holds 23 of
    // them: the switch comes at the first tick where only 5 (< 25 %) predate the heal
    expect(events[1]).toEqual({ from: 'baseline-only', to: 'degraded', at: heal + 91_000, share: 5 / 23, window_s: 120 })
    // ten minutes in degraded on probes alone (the 5-minute rule did not look back at the outage)
    expect(events[2]).toEqual({ from: 'degraded', to: 'normal', at: heal + 91_000 + 10 * MIN, share: 0, window_s: 600 })
    expect(T0).toBeLessThan(heal)
    expect(machine.transitions).toBe(3)
  })

  it('never goes from baseline-only straight to normal', () => {
    const { machine, clock, events } = setup()
    toBaselineOnly(machine, clock)
    probesOnly(machine, clock, 119, () => true)
    expect(machine.mode.kind).toBe('baseline-only')
    probesOnly(machine, clock, 1, () => true)
    expect(events.at(-1)!.to).toBe('degraded')
  })

  it('stays normal whatever happens when degradation is disabled', () => {
    const { machine, clock, events } = setup({ ...CFG, enabled: false })
    traffic(machine, clock, 1800, 4, 1, 1)
    expect(events).toEqual([])
    expect(machine.probeDue()).toBe(false)
  })

  it('judges each rule only over a complete window since the last transition', () => {
    const calls: [number, number][] = []
    const allFailed: ShareView = {
      share(windowS, since) {
        calls.push([windowS, since])
        return 1
      },
    }
    const degraded: Mode = { kind: 'degraded', since: 1_000_000, share: 0.3, window_s: 180 }
    expect(nextMode(degraded, allFailed, true, CFG, 1_000_000 + 59_999)).toBe(degraded)
    expect(calls).toEqual([])
    expect(nextMode(degraded, allFailed, true, CFG, 1_060_000)).toEqual({ kind: 'baseline-only', since: 1_060_000, share: 1, window_s: 60 })
    expect(calls).toEqual([[60, 1_000_000]])
    const off = { ...CFG, enabled: false }
    expect(nextMode(degraded, allFailed, true, off, 1_060_000)).toEqual({ kind: 'normal', since: 1_060_000, share: 0, window_s: 0 })
  })

  it('rejects a configuration that could wedge it, naming the key and quoting the value', () => {
    const clock = new ManualClock()
    try {
      new ModeMachine({ ...CFG, probe_every_n_requests: 0.5 }, clock)
      expect.unreachable()
    } catch (e) {
      expect(isTsfmError(e) && [e.code, e.message, e.path]).toEqual([
        'TSFM_CONFIG_INVALID',
        'tsfm.degradation.probe_every_n_requests must be an integer >= 1, got 0.5',
        'tsfm.degradation.probe_every_n_requests',
      ])
    }
  })

  it('only ever steps between neighbouring modes, once per event, whatever the traffic', () => {
    const allowed = new Set(['normal>degraded', 'normal>baseline-only', 'degraded>baseline-only', 'baseline-only>degraded', 'degraded>normal'])
    const op = fc.oneof(
      fc.record({ op: fc.constant('advance' as const), s: fc.integer({ min: 1, max: 120 }) }),
      fc.record({ op: fc.constant('traffic' as const), n: fc.integer({ min: 1, max: 40 }), fail: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ op: fc.constant('health' as const), green: fc.boolean() }),
    )
    const small = { ...CFG, min_requests: 3, fast_trip_window_s: 10, degraded_enter_window_s: 20, baseline_only_enter_window_s: 30 }
    const config = fc.constantFrom(CFG, { ...small, baseline_only_exit_window_s: 15, degraded_exit_window_s: 40, probe_interval_s: 1 })
    fc.assert(
      fc.property(config, fc.array(op, { minLength: 20, maxLength: 200, size: 'max' }), (cfg, ops) => {
        const clock = new ManualClock()
        const events: ModeTransition[] = []
        const m = new ModeMachine(cfg, clock, (e) => events.push(e))
        let last: Mode = m.mode
        let seen = 0
        for (const o of ops) {
          if (o.op === 'advance') {
            for (let s = 0; s < o.s; s++) {
              clock.advance(1000)
              m.evaluate()
              if (m.probeDue()) m.record(s % 3 === 0 ? 'failure' : 'success')
            }
          } else if (o.op === 'traffic') {
            for (let i = 0; i < o.n; i++) m.record(i % 4 < o.fail ? 'failure' : 'success')
          } else m.setHealth(o.green)
          const now: Mode = m.mode
          if (now !== last) {
            expect(events.length).toBe(seen + 1)
            const e = events[seen]!
            expect(allowed.has(`${e.from}>${e.to}`)).toBe(true)
            expect([e.from, e.to, e.at]).toEqual([last.kind, now.kind, now.since])
            expect(now.since).toBeGreaterThanOrEqual(last.since + e.window_s * 1000)
            expect(Number.isFinite(e.share)).toBe(true)
            seen++
            last = now
          }
          expect(events.length).toBe(seen)
        }
        expect(m.transitions).toBe(events.length)
      }),
      { numRuns: 200 },
    )
  })
})
