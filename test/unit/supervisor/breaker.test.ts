import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import type { CircuitBreakerConfig } from '../../../src/config/types.js'
import { isTsfmError } from '../../../src/errors.js'
import { CircuitBreaker, cooldownMs, type BreakerTransition, type Permit } from '../../../src/supervisor/breaker.js'

const CFG = DEFAULTS.circuit_breaker
/** random() = 0.5 puts the jitter at exactly 0, so cooldowns are cooldown_s × 2^reopens. */
const NO_JITTER = (): number => 0.5

function setup(config: CircuitBreakerConfig = CFG, random = NO_JITTER, probeTimeoutMs = 1600) {
  const clock = new ManualClock()
  const events: BreakerTransition[] = []
  const breaker = new CircuitBreaker(config, clock, random, (e) => events.push(e), probeTimeoutMs)
  const T0 = clock.now()
  return { clock, breaker, events, T0 }
}

function permit(b: CircuitBreaker): Permit {
  const p = b.tryAcquire()
  if (p === null) throw new Error('expected a permit')
  return p
}

/** One call per element: true = success, false = failure. */
function calls(b: CircuitBreaker, outcomes: readonly boolean[]): void {
  for (const ok of outcomes) {
    const p = permit(b)
    if (ok) b.success(p)
    else b.failure(p)
  }
}

const F = false
const S = true

/** Open the breaker with five failures and move to half-open (no jitter: after 120 s). */
function toHalfOpen(b: CircuitBreaker, clock: ManualClock): void {
  calls(b, [F, F, F, F, F])
  clock.advance(120_000)
  expect(b.state).toBe('half-open')
}

describe('CircuitBreaker', () => {
  it('starts closed and hands out permits', () => {
    const { breaker } = setup()
    expect(breaker.state).toBe('closed')
    expect(breaker.tryAcquire()).toBe(0)
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', reason: 'initial', generation: 0, transitions: 0 })
  })

  it('opens after five consecutive failures and refuses calls', () => {
    const { breaker, events, T0 } = setup()
    calls(breaker, [F, F, F, F])
    expect(breaker.state).toBe('closed')
    expect(breaker.snapshot().consecutive_failures).toBe(4)
    calls(breaker, [F])
    expect(breaker.state).toBe('open')
    expect(breaker.tryAcquire()).toBeNull()
    expect(events).toEqual([{ from: 'closed', to: 'open', at: T0, reason: 'consecutive_failures', generation: 1 }])
  })

  it('counts the failed members of one multiplexed request once toward consecutive failures, each in the rate window', () => {
    const { breaker } = setup()
    const members = Array.from({ length: 32 }, () => permit(breaker))
    breaker.failure(members[0]!)
    for (const p of members.slice(1)) breaker.failure(p, true)
    // 32 failures out of 32 outcomes: the rate rule (≥ 0.5 over ≥ 10) opens it, not the count.
    expect(breaker.state).toBe('open')
    expect(breaker.current.reason).toBe('failure_rate')
  })

  it('keeps one failed multiplexed request among successes from opening the breaker', () => {
    const { breaker } = setup()
    calls(breaker, new Array(40).fill(S))
    const members = Array.from({ length: 8 }, () => permit(breaker))
    breaker.failure(members[0]!)
    for (const p of members.slice(1)) breaker.failure(p, true)
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutive_failures: 1, window_failures: 8, window_successes: 40 })
  })

  it('starts counting consecutive failures again after a success', () => {
    const { breaker } = setup()
    calls(breaker, [F, F, F, F, S, F, F, F, F])
    expect(breaker.state).toBe('closed')
    expect(breaker.snapshot().consecutive_failures).toBe(4)
  })

  it('opens when at least half of at least ten outcomes in the window failed', () => {
    const { breaker, events } = setup()
    calls(breaker, [F, F, S, F, F, S, F, F, S]) // 6 of 9 failed, never 3 in a row
    expect(breaker.state).toBe('closed')
    calls(breaker, [F])
    expect(breaker.state).toBe('open')
    expect(events.map((e) => e.reason)).toEqual(['failure_rate'])
  })

  it('opens at a failure rate of exactly 0.5', () => {
    const { breaker } = setup()
    calls(breaker, [S, F, S, F, S, F, S, F, S])
    expect(breaker.state).toBe('closed')
    calls(breaker, [F])
    expect(breaker.state).toBe('open')
  })

  it('stays closed below the failure rate', () => {
    const { breaker } = setup()
    calls(breaker, [S, F, S, F, S, S, F, S, F, S, F]) // 5 of 11
    expect(breaker.state).toBe('closed')
  })

  it('judges the rate only over the last window_s', () => {
    const { breaker, clock } = setup()
    calls(breaker, [F, F, S, F, F, S, F, F, S])
    clock.advance(300_000)
    calls(breaker, [F])
    expect(breaker.state).toBe('closed')
    expect(breaker.snapshot()).toMatchObject({ window_successes: 0, window_failures: 1 })
  })

  it('does not stay closed forever when a success arrives now and then during an outage', () => {
    const { breaker, clock } = setup()
    // three failures then one success, one call per second: the consecutive rule never fires
    for (let i = 0; i < 9; i++) {
      calls(breaker, [i % 4 === 3])
      clock.advance(1000)
    }
    expect(breaker.state).toBe('closed')
    calls(breaker, [F])
    expect(breaker.state).toBe('open')
    expect(breaker.snapshot().reason).toBe('failure_rate')
  })

  it('refuses calls during the cooldown and turns half-open when it ends', () => {
    const { breaker, clock, events, T0 } = setup()
    calls(breaker, [F, F, F, F, F])
    expect(breaker.snapshot().open_until).toBe(T0 + 120_000)
    clock.advance(119_999)
    expect(breaker.tryAcquire()).toBeNull()
    expect(breaker.state).toBe('open')
    clock.advance(1)
    expect(breaker.state).toBe('half-open')
    expect(events[1]).toEqual({ from: 'open', to: 'half-open', at: T0 + 120_000, reason: 'cooldown_elapsed', generation: 2 })
  })

  it('jitters the cooldown by up to ±10 %', () => {
    expect(cooldownMs(CFG, 0, () => 0)).toBe(108_000)
    expect(cooldownMs(CFG, 0, () => 0.75)).toBe(126_000)
    const { breaker, clock } = setup(CFG, () => 0)
    calls(breaker, [F, F, F, F, F])
    clock.advance(107_999)
    expect(breaker.state).toBe('open')
    clock.advance(1)
    expect(breaker.state).toBe('half-open')
  })

  it('lets exactly two probes through in half-open and refuses a third without changing state', () => {
    const { breaker, clock, events } = setup()
    toHalfOpen(breaker, clock)
    const p1 = permit(breaker)
    const p2 = permit(breaker)
    const before = breaker.current
    expect(breaker.tryAcquire()).toBeNull()
    expect(breaker.tryAcquire()).toBeNull()
    expect(breaker.current).toBe(before)
    expect(breaker.probesOutstanding).toBe(2)
    breaker.success(p1)
    expect(breaker.state).toBe('half-open')
    expect(breaker.probesOutstanding).toBe(1)
    expect(breaker.tryAcquire()).toBeNull()
    breaker.success(p2)
    expect(breaker.state).toBe('closed')
    expect(events.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual([
      'closed>open:consecutive_failures',
      'open>half-open:cooldown_elapsed',
      'half-open>closed:probes_succeeded',
    ])
  })

  it('re-opens when a probe fails, with the cooldown doubled per re-open and capped at max_cooldown_s', () => {
    const { breaker, clock } = setup()
    toHalfOpen(breaker, clock)
    const expected = [240_000, 480_000, 600_000, 600_000]
    for (const cooldown of expected) {
      const p = permit(breaker)
      breaker.failure(p)
      expect(breaker.state).toBe('open')
      expect(breaker.snapshot().open_until).toBe(clock.now() + cooldown)
      clock.advance(cooldown)
      expect(breaker.state).toBe('half-open')
    }
    expect(breaker.snapshot()).toMatchObject({ reopens: 4, reason: 'cooldown_elapsed' })
  })

  it('re-opens on a failed probe even while the other probe is still out', () => {
    const { breaker, clock } = setup()
    toHalfOpen(breaker, clock)
    const p1 = permit(breaker)
    const p2 = permit(breaker)
    breaker.failure(p2)
    expect(breaker.snapshot()).toMatchObject({ state: 'open', reason: 'probe_failed', reopens: 1 })
    breaker.success(p1) // the other probe's late success cannot close it
    expect(breaker.state).toBe('open')
  })

  it('forgets the re-open count and the window when it closes', () => {
    const { breaker, clock } = setup()
    toHalfOpen(breaker, clock)
    breaker.failure(permit(breaker))
    clock.advance(240_000)
    calls(breaker, [S, S])
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', reopens: 0, window_successes: 0, window_failures: 0 })
    // nine fresh outcomes are not enough for the rate rule (with the old five failures they would be)
    calls(breaker, [F, F, S, F, F, S, F, F, S])
    expect(breaker.state).toBe('closed')
    calls(breaker, [F])
    expect(breaker.snapshot()).toMatchObject({ state: 'open', reason: 'failure_rate', open_until: clock.now() + 120_000 })
  })

  it('ignores a late failure from before the open: it does not re-open a half-open breaker', () => {
    const { breaker, clock } = setup()
    const old = permit(breaker)
    toHalfOpen(breaker, clock)
    breaker.failure(old)
    expect(breaker.state).toBe('half-open')
    calls(breaker, [S, S])
    expect(breaker.state).toBe('closed')
  })

  it('ignores a late success from before the open: it does not count as a probe', () => {
    const { breaker, clock } = setup()
    const old = permit(breaker)
    toHalfOpen(breaker, clock)
    const p1 = permit(breaker)
    breaker.success(old)
    breaker.success(p1)
    expect(breaker.state).toBe('half-open')
    expect(breaker.current).toMatchObject({ probesIssued: 1, probesSucceeded: 1 })
    breaker.success(permit(breaker))
    expect(breaker.state).toBe('closed')
  })

  it('ignores late results while open: neither a success nor a failure changes the cooldown', () => {
    const { breaker, T0 } = setup()
    const early = [permit(breaker), permit(breaker)]
    calls(breaker, [F, F, F, F, F])
    const before = breaker.current
    breaker.success(early[0]!)
    breaker.failure(early[1]!)
    expect(breaker.current).toBe(before)
    expect(breaker.snapshot().open_until).toBe(T0 + 120_000)
  })

  it('ignores a late result from an earlier closed period', () => {
    const { breaker, clock } = setup()
    const old = permit(breaker)
    toHalfOpen(breaker, clock)
    calls(breaker, [S, S])
    calls(breaker, [F, F, F, F])
    breaker.failure(old)
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutive_failures: 4, window_failures: 4 })
  })

  it('treats a probe that never returns as failed after the probe timeout', () => {
    const { breaker, clock, events } = setup(CFG, NO_JITTER, 1600)
    toHalfOpen(breaker, clock)
    const p1 = permit(breaker)
    const p2 = permit(breaker)
    breaker.success(p1)
    clock.advance(1599)
    expect(breaker.state).toBe('half-open')
    clock.advance(1)
    expect(breaker.snapshot()).toMatchObject({ state: 'open', reason: 'probe_timeout', reopens: 1 })
    breaker.success(p2) // the lost probe turns up: too late
    expect(breaker.state).toBe('open')
    expect(events.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'probe_timeout' })
  })

  it('opens and turns half-open again in one instant when a probe times out with a zero cooldown', () => {
    const { breaker, clock, events } = setup({ ...CFG, cooldown_s: 0 }, NO_JITTER, 1600)
    calls(breaker, [F, F, F, F, F])
    expect(breaker.state).toBe('half-open')
    permit(breaker)
    clock.advance(1600)
    const s = breaker.current
    expect(s).toMatchObject({ kind: 'half-open', reopens: 1, probesIssued: 0 })
    expect(breaker.current).toBe(s) // reading again at the same time changes nothing
    expect(events.slice(-2).map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual(['half-open>open:probe_timeout', 'open>half-open:cooldown_elapsed'])
    expect(events.length).toBe(s.generation)
  })

  it('waits in half-open for as long as no probe is out', () => {
    const { breaker, clock } = setup()
    toHalfOpen(breaker, clock)
    clock.advance(3_600_000)
    expect(breaker.state).toBe('half-open')
    expect(breaker.probesOutstanding).toBe(0)
  })

  it('delivers each transition once, with its time', () => {
    const { breaker, clock, events, T0 } = setup()
    calls(breaker, [F, F, F, F, F])
    clock.advance(130_000) // noticed lazily: the half-open transition is stamped when observed
    for (let i = 0; i < 5; i++) void breaker.state
    calls(breaker, [S, S])
    expect(events).toEqual([
      { from: 'closed', to: 'open', at: T0, reason: 'consecutive_failures', generation: 1 },
      { from: 'open', to: 'half-open', at: T0 + 130_000, reason: 'cooldown_elapsed', generation: 2 },
      { from: 'half-open', to: 'closed', at: T0 + 130_000, reason: 'probes_succeeded', generation: 3 },
    ])
    expect(breaker.transitions).toBe(3)
  })

  it('rejects a configuration that could wedge it, naming the key and quoting the value', () => {
    const clock = new ManualClock()
    const bad = (patch: Partial<CircuitBreakerConfig>): unknown => {
      try {
        new CircuitBreaker({ ...CFG, ...patch }, clock)
      } catch (e) {
        return isTsfmError(e) ? [e.code, e.message, e.path] : e
      }
      return null
    }
    expect(bad({ half_open_probes: 0 })).toEqual([
      'TSFM_CONFIG_INVALID',
      'tsfm.circuit_breaker.half_open_probes must be an integer >= 1, got 0',
      'tsfm.circuit_breaker.half_open_probes',
    ])
    expect(bad({ cooldown_jitter: 1 })).toEqual([
      'TSFM_CONFIG_INVALID',
      'tsfm.circuit_breaker.cooldown_jitter must be in [0, 1), got 1',
      'tsfm.circuit_breaker.cooldown_jitter',
    ])
    expect(bad({})).toBeNull()
  })

  it('never reaches an invalid state, whatever the sequence of calls, outcomes and time', () => {
    // weighted towards bursts of acquires and short steps, so half-open is reached and then crowded
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('acquire' as const) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('success' as const, 'failure' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2_000 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400_000 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('read' as const) }) },
    )
    const config = fc.record({
      failures_to_open: fc.integer({ min: 1, max: 6 }),
      failure_rate_to_open: fc.double({ min: 0.1, max: 1, noNaN: true }),
      window_s: fc.integer({ min: 1, max: 600 }),
      min_requests: fc.integer({ min: 1, max: 12 }),
      cooldown_s: fc.integer({ min: 0, max: 200 }),
      cooldown_multiplier: fc.constantFrom(1, 1.5, 2),
      max_cooldown_s: fc.constant(600),
      cooldown_jitter: fc.double({ min: 0, max: 0.5, noNaN: true }),
      half_open_probes: fc.integer({ min: 1, max: 4 }),
    })
    fc.assert(
      fc.property(config, fc.array(op, { minLength: 20, maxLength: 300, size: 'max' }), fc.double({ min: 0, max: 0.999, noNaN: true }), (cfg, ops, r) => {
        const clock = new ManualClock()
        const events: BreakerTransition[] = []
        const b = new CircuitBreaker(cfg, clock, () => r, (e) => events.push(e), 1600)
        const permits: Permit[] = []
        let lastGeneration = 0
        const probeGrants = new Map<number, number>() // half-open generation → permits granted in it
        for (const o of ops) {
          if (o.op === 'advance') clock.advance(o.ms)
          else if (o.op === 'acquire') {
            const p = b.tryAcquire()
            const s = b.current
            if (p !== null) {
              permits.push(p)
              expect(p).toBe(s.generation)
              expect(s.kind).not.toBe('open')
              if (s.kind === 'half-open') probeGrants.set(p, (probeGrants.get(p) ?? 0) + 1)
            }
          } else if (o.op === 'success' || o.op === 'failure') {
            if (permits.length === 0) continue
            const [p] = permits.splice(o.pick % permits.length, 1)
            const before = b.current
            if (o.op === 'success') b.success(p!)
            else b.failure(p!)
            // a result from an earlier generation never changes anything
            if (p !== before.generation) expect(b.current).toBe(before)
          }
          const s = b.current
          expect(s.generation).toBeGreaterThanOrEqual(lastGeneration)
          lastGeneration = s.generation
          if (s.kind === 'half-open') {
            expect(s.probesIssued).toBeLessThanOrEqual(cfg.half_open_probes)
            expect(s.probesSucceeded).toBeLessThan(cfg.half_open_probes)
            expect(s.probesSucceeded).toBeLessThanOrEqual(s.probesIssued)
            expect(probeGrants.get(s.generation) ?? 0).toBe(s.probesIssued)
          }
          if (s.kind === 'closed') expect(s.consecutiveFailures).toBeLessThan(cfg.failures_to_open)
          if (s.kind === 'open') {
            expect(s.until - s.since).toBeGreaterThanOrEqual(0)
            expect(s.until - s.since).toBeLessThanOrEqual(cfg.max_cooldown_s * 1000)
          }
        }
        // never more than half_open_probes permits in one half-open period
        for (const n of probeGrants.values()) expect(n).toBeLessThanOrEqual(cfg.half_open_probes)
        // one event per generation change, each one a real change
        expect(events.length).toBe(b.current.generation)
        expect(b.transitions).toBe(events.length)
        for (const e of events) expect(e.from).not.toBe(e.to)
      }),
      { numRuns: 300 },
    )
  })
})

describe('CircuitBreaker.release (a call with no verdict on the upstream)', () => {
  it('counts neither way while closed: a thousand released calls leave the window empty and the breaker closed', () => {
    const { breaker } = setup()
    calls(breaker, [F, F, F, F])
    for (let i = 0; i < 1000; i++) breaker.release(permit(breaker))
    expect(breaker.state).toBe('closed')
    expect(breaker.snapshot()).toMatchObject({ consecutive_failures: 4, window_failures: 4, window_successes: 0 })
    calls(breaker, [F])
    expect(breaker.state).toBe('open')
  })

  it('hands a half-open probe permit back without closing or re-opening the breaker', () => {
    const { breaker, clock } = setup()
    toHalfOpen(breaker, clock)
    const first = permit(breaker)
    const second = permit(breaker)
    expect(breaker.tryAcquire()).toBeNull()
    breaker.release(first)
    expect(breaker.state).toBe('half-open')
    const third = permit(breaker)
    breaker.success(second)
    breaker.success(third)
    expect(breaker.state).toBe('closed')
  })

  it('ignores a release from an earlier generation', () => {
    const { breaker, clock } = setup()
    const old = permit(breaker)
    toHalfOpen(breaker, clock)
    const probe = permit(breaker)
    permit(breaker)
    breaker.release(old)
    expect(breaker.tryAcquire()).toBeNull()
    breaker.failure(probe)
    expect(breaker.state).toBe('open')
  })
})
