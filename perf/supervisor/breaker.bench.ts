/**
 * Breaker bookkeeping per upstream call: the preallocated bucket ring (TimeWindow) against a naive
 * array of timestamps (push, shift the expired ones, count failures by scanning — the usual first
 * implementation), and the whole CircuitBreaker (tryAcquire + outcome) against a naive breaker
 * built on that array. Traffic is steady with one failure in ten, so both stay closed, at 4 req/s
 * (the blueprint's target) and 200 req/s over the 300 s window (1 200 and 60 000 outcomes held).
 * The ModeMachine's record (which judges up to three windows) is measured alongside.
 * Run: node dist/perf/supervisor/breaker.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import type { Clock, TimerHandle } from '../../src/clock/clock.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import { CircuitBreaker } from '../../src/supervisor/breaker.js'
import { ModeMachine } from '../../src/supervisor/mode.js'
import { TimeWindow } from '../../src/supervisor/time-window.js'

const CB = DEFAULTS.circuit_breaker
const WINDOW_MS = CB.window_s * 1000

/** A clock the benchmark moves by hand (no timers are used by the code under test). */
class StepClock implements Clock {
  t = 1_700_000_000_000
  now(): number {
    return this.t
  }
  setTimeout(): TimerHandle {
    throw new Error('not used')
  }
  clearTimeout(): void {}
}

interface Stamp {
  readonly at: number
  readonly ok: boolean
}

/** The naive window: every outcome kept as an object until it expires; reads scan them all. */
class NaiveWindow {
  readonly #events: Stamp[] = []
  constructor(readonly spanMs: number) {}
  record(now: number, ok: boolean): void {
    this.#events.push({ at: now, ok })
    this.#expire(now)
  }
  failures(now: number): number {
    this.#expire(now)
    let f = 0
    for (const e of this.#events) if (!e.ok) f++
    return f
  }
  total(now: number): number {
    this.#expire(now)
    return this.#events.length
  }
  #expire(now: number): void {
    while (this.#events.length > 0 && this.#events[0]!.at <= now - this.spanMs) this.#events.shift()
  }
}

/** A naive breaker of the same rules over the naive window (no generations, no half-open limits). */
class NaiveBreaker {
  state: 'closed' | 'open' | 'half-open' = 'closed'
  consecutive = 0
  until = 0
  readonly window = new NaiveWindow(WINDOW_MS)
  constructor(readonly clock: Clock) {}
  tryAcquire(): boolean {
    if (this.state === 'open' && this.clock.now() >= this.until) this.state = 'half-open'
    return this.state !== 'open'
  }
  outcome(ok: boolean): void {
    const now = this.clock.now()
    this.window.record(now, ok)
    if (ok) {
      this.consecutive = 0
      if (this.state === 'half-open') this.state = 'closed'
      return
    }
    this.consecutive++
    const total = this.window.total(now)
    if (this.consecutive >= CB.failures_to_open || (total >= CB.min_requests && this.window.failures(now) >= CB.failure_rate_to_open * total)) {
      this.state = 'open'
      this.until = now + CB.cooldown_s * 1000
    }
  }
}

for (const rate of [4, 200]) {
  const step = 1000 / rate
  const clock = new StepClock()
  const ring = new TimeWindow(WINDOW_MS)
  const naive = new NaiveWindow(WINDOW_MS)
  const breaker = new CircuitBreaker(CB, clock)
  const naiveBreaker = new NaiveBreaker(clock)
  const mode = new ModeMachine(DEFAULTS.degradation, clock)
  // fill every window first, so the benchmarks measure the steady state, not the warm-up
  for (let i = 0; i < WINDOW_MS / step; i++) {
    clock.t += step
    const ok = i % 10 !== 0
    ring.record(clock.t, ok)
    naive.record(clock.t, ok)
    naiveBreaker.outcome(ok)
    const p = breaker.tryAcquire()
    if (p !== null && ok) breaker.success(p)
    else if (p !== null) breaker.failure(p)
    mode.record(ok ? 'success' : 'failure')
  }
  let i = 0

  group(`window: record + failure-rate read, ${rate} req/s over ${CB.window_s} s`, () => {
    summary(() => {
      bench('TimeWindow (bucket ring, running totals)', () => {
        clock.t += step
        ring.record(clock.t, i++ % 10 !== 0)
        do_not_optimize(ring.failures(clock.t) / ring.total(clock.t))
      })
      bench('naive array of timestamps', () => {
        clock.t += step
        naive.record(clock.t, i++ % 10 !== 0)
        do_not_optimize(naive.failures(clock.t) / naive.total(clock.t))
      })
    })
  })

  group(`breaker: tryAcquire + outcome per call, ${rate} req/s`, () => {
    summary(() => {
      bench('CircuitBreaker', () => {
        clock.t += step
        const p = breaker.tryAcquire()
        if (p !== null) {
          if (i++ % 10 !== 0) breaker.success(p)
          else breaker.failure(p)
        }
      })
      bench('naive breaker over the timestamp array', () => {
        clock.t += step
        if (naiveBreaker.tryAcquire()) naiveBreaker.outcome(i++ % 10 !== 0)
      })
    })
  })

  group(`mode machine: record (judges its windows), ${rate} req/s`, () => {
    bench('ModeMachine.record', () => {
      clock.t += step
      mode.record(i++ % 10 !== 0 ? 'success' : 'failure')
    })
  })
}

await run()
