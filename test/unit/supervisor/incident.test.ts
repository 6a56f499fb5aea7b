import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { CircuitBreaker, type BreakerTransition } from '../../../src/supervisor/breaker.js'
import { ModeMachine, type ModeTransition } from '../../../src/supervisor/mode.js'
import { seededRandom } from '../../../src/sim/prng.js'

const MIN = 60_000

/** Seeded (mulberry32), so the simulated upstream fails the same way on every run. */
const seeded = seededRandom

/**
 * The blueprint's incident profile through the breaker and the mode machine wired the way the
 * supervisor wires them (SPEC §3 steps 5, 6, 12): client traffic at 4 req/s; baseline-only answers
 * everything except one request in 20 and the periodic probe; a breaker refusal counts as a failure
 * for the mode machine; mode-forced answers are not recorded; a tick every second evaluates the mode
 * and sends the periodic probe when due; the health probe follows the upstream every 10 s.
 */
function simulation(seed: number) {
  const clock = new ManualClock()
  const rng = seeded(seed)
  const breakerEvents: BreakerTransition[] = []
  const modeEvents: ModeTransition[] = []
  const breaker = new CircuitBreaker(DEFAULTS.circuit_breaker, clock, seeded(seed + 1), (e) => breakerEvents.push(e), 1600)
  const mode = new ModeMachine(DEFAULTS.degradation, clock, (e) => modeEvents.push(e))
  let failShare = 0
  let upstreamCalls = 0

  /** One upstream request (answers at once): its outcome goes to both machines. */
  const call = (): void => {
    const permit = breaker.tryAcquire()
    if (permit === null) {
      mode.record('failure') // answered circuit_breaker_open
      return
    }
    upstreamCalls++
    const ok = rng() >= failShare
    if (ok) breaker.success(permit)
    else breaker.failure(permit)
    mode.record(ok ? 'success' : 'failure')
  }

  const clientRequest = (): void => {
    if (mode.mode.kind === 'baseline-only' && !mode.shouldProbe()) return // degradation_baseline_only
    call()
  }

  let step = 0
  /** Run for `ms`: a client request every 250 ms, the supervisor's tick every second. */
  const run = (ms: number, until?: () => boolean): void => {
    for (let t = 0; t < ms; t += 250) {
      clock.advance(250)
      step++
      clientRequest()
      if (step % 4 === 0) {
        mode.evaluate()
        if (mode.probeDue()) call()
      }
      if (step % 40 === 0) mode.setHealth(failShare === 0)
      if (until?.()) return
    }
  }

  return {
    clock,
    breaker,
    mode,
    breakerEvents,
    modeEvents,
    run,
    setFailShare: (share: number) => {
      failShare = share
    },
    upstreamCalls: () => upstreamCalls,
  }
}

describe('the incident profile (70 % upstream failures)', () => {
  it.each([1, 2, 3])('reaches baseline-only within 2 simulated minutes and returns to normal through degraded after the upstream heals (seed %i)', (seed) => {
    const sim = simulation(seed)
    sim.run(5 * MIN)
    expect(sim.mode.mode.kind).toBe('normal')
    expect(sim.breaker.state).toBe('closed')

    const incident = sim.clock.now()
    sim.setFailShare(0.7)
    sim.run(2 * MIN, () => sim.mode.mode.kind === 'baseline-only')
    expect(sim.mode.mode.kind).toBe('baseline-only')
    const switched = sim.mode.mode.since - incident
    expect(switched).toBeGreaterThan(0)
    expect(switched).toBeLessThanOrEqual(2 * MIN)
    expect(sim.breakerEvents[0]).toMatchObject({ from: 'closed', to: 'open' })

    // the rest of a 10-minute incident: baseline-only holds, the upstream sees only probes
    const callsBefore = sim.upstreamCalls()
    sim.run(incident + 10 * MIN - sim.clock.now())
    expect(sim.mode.mode.kind).toBe('baseline-only')
    const elapsedS = (incident + 10 * MIN - sim.mode.mode.since) / 1000
    // one client request in 20 (4 req/s) plus one periodic probe every 5 s, at most, minus refusals
    expect(sim.upstreamCalls() - callsBefore).toBeLessThanOrEqual(Math.ceil(elapsedS * (4 / 20 + 1 / 5)) + 2)

    const healed = sim.clock.now()
    sim.setFailShare(0)
    sim.run(60 * MIN, () => sim.mode.mode.kind === 'normal')
    expect(sim.mode.mode.kind).toBe('normal')
    expect(sim.breaker.state).toBe('closed')
    const after = sim.modeEvents.filter((e) => e.at > healed).map((e) => `${e.from}>${e.to}`)
    expect(after).toEqual(['baseline-only>degraded', 'degraded>normal'])
    const [toDegraded, toNormal] = sim.modeEvents.filter((e) => e.at > healed)
    expect(toNormal!.at - toDegraded!.at).toBe(10 * MIN)
    // every mode change during the incident led towards baseline-only: no flapping
    const during = sim.modeEvents.filter((e) => e.at <= healed).map((e) => e.to)
    expect(during.at(-1)).toBe('baseline-only')
    expect(during.filter((to) => to !== 'baseline-only').every((to) => to === 'degraded')).toBe(true)
    expect(sim.mode.transitions).toBe(sim.modeEvents.length)
  })
})
