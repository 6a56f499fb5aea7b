/**
 * The circuit breaker (SPEC §5), one per upstream: a pure transition function over a discriminated
 * union, and a thin class that feeds it the injected clock, the failure-rate window and a random
 * source.
 *
 * closed ──5 consecutive failures, or rate ≥ 0.5 over 300 s with ≥ 10 outcomes──▶ open
 * open ──cooldown elapsed (noticed lazily, on the next call)──▶ half-open
 * half-open ──every probe succeeded──▶ closed      half-open ──a probe failed or timed out──▶ open
 *
 * Every transition starts a new `generation`, and a permit carries the generation it was issued
 * in. The rule for late results: **an outcome counts only if its permit was issued in the current
 * generation**; anything older is ignored entirely — for transitions and for the rate window.
 * Because every state change bumps the generation, this means:
 *  - closed: outcomes of permits issued in this closed period count (window and consecutive
 *    failures); a closed period never sees outcomes from before it, so a window reset on closing
 *    is exact;
 *  - open: no permit of this generation exists, so every outcome is ignored (a late success cannot
 *    close or shorten an open breaker, a late failure cannot lengthen it);
 *  - half-open: only the probes issued in this half-open period count, so a late success from before
 *    the open is never mistaken for a probe and a late failure never re-opens it (fixes the Python
 *    service, which re-opened on any failure and discarded successful probes).
 *
 * A probe that never returns would wedge half-open forever (its permit can never be replaced), so
 * an unresolved probe counts as failed once `probeTimeoutMs` has passed since the last probe was
 * issued (the supervisor passes its deadline budget: no upstream call outlives it).
 */
import type { Clock } from '../clock/clock.js'
import type { CircuitBreakerConfig } from '../config/types.js'
import { TsfmError, quote } from '../errors.js'
import { TimeWindow } from './time-window.js'

export type BreakerStateKind = 'closed' | 'open' | 'half-open'

/** Why the breaker entered its current state. */
export type BreakerReason =
  | 'initial'
  | 'consecutive_failures'
  | 'failure_rate'
  | 'cooldown_elapsed'
  | 'probe_failed'
  | 'probe_timeout'
  | 'probes_succeeded'

export interface ClosedState {
  readonly kind: 'closed'
  readonly generation: number
  readonly since: number
  readonly reason: BreakerReason
  readonly consecutiveFailures: number
}

export interface OpenState {
  readonly kind: 'open'
  readonly generation: number
  /** When it opened. */
  readonly since: number
  readonly reason: BreakerReason
  /** End of the cooldown: from then on the next call finds it half-open. */
  readonly until: number
  /** Consecutive re-opens without a close in between (0 for an open from closed). */
  readonly reopens: number
}

export interface HalfOpenState {
  readonly kind: 'half-open'
  readonly generation: number
  readonly since: number
  readonly reason: BreakerReason
  readonly reopens: number
  readonly probesIssued: number
  readonly probesSucceeded: number
  /** When the last probe permit was issued (the probe timeout runs from here). */
  readonly lastProbeAt: number
}

export type BreakerState = ClosedState | OpenState | HalfOpenState

export type BreakerEvent =
  | { readonly type: 'tick' }
  | { readonly type: 'acquire' }
  | { readonly type: 'success'; readonly generation: number }
  | {
      readonly type: 'failure'
      readonly generation: number
      /**
       * Another member of the same multiplexed upstream request already counted: the failure
       * goes into the rate window but not again into the consecutive-failure count.
       */
      readonly sameRequest: boolean
    }
  /**
   * The call ended without saying anything about the upstream's health (the caller's own error,
   * or it ran out of its own deadline while the request went on for others): counted neither way.
   * In half-open the probe permit is handed back, so another request can probe.
   */
  | { readonly type: 'release'; readonly generation: number }

export interface BreakerContext {
  readonly config: CircuitBreakerConfig
  readonly now: number
  /** Uniform in [0, 1): the cooldown jitter. */
  readonly random: () => number
  readonly probeTimeoutMs: number
  /** The closed-state window at `now`, including the outcome being applied. */
  readonly windowFailures: number
  readonly windowTotal: number
}

/** Transition events for logs and metrics: exactly one per generation change. */
export interface BreakerTransition {
  readonly from: BreakerStateKind
  readonly to: BreakerStateKind
  readonly at: number
  readonly reason: BreakerReason
  readonly generation: number
}

/** The generation a permit was issued in. A number, so granting one allocates nothing. */
export type Permit = number & { readonly __permit: unique symbol }

/** The upper bound on one upstream call (SPEC §4 deadline budget) unless the caller says otherwise. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1600

export const TICK: BreakerEvent = Object.freeze({ type: 'tick' })
export const ACQUIRE: BreakerEvent = Object.freeze({ type: 'acquire' })

export function initialBreakerState(now: number): ClosedState {
  return { kind: 'closed', generation: 0, since: now, reason: 'initial', consecutiveFailures: 0 }
}

/**
 * Cooldown after the `reopens`-th consecutive re-open: cooldown_s × multiplier^reopens, capped at
 * max_cooldown_s, then ± cooldown_jitter (so breakers of several runners do not probe in step), and
 * never longer than max_cooldown_s.
 */
export function cooldownMs(config: CircuitBreakerConfig, reopens: number, random: () => number): number {
  const maxMs = config.max_cooldown_s * 1000
  const base = Math.min(maxMs, config.cooldown_s * 1000 * config.cooldown_multiplier ** reopens)
  const jittered = base * (1 + config.cooldown_jitter * (2 * random() - 1))
  return Math.min(maxMs, jittered)
}

/**
 * The pure transition function. Returns `state` itself when nothing changes, so callers can test
 * identity. `acquire` includes a `tick`; whether it granted a permit is {@link granted}.
 */
export function transition(state: BreakerState, event: BreakerEvent, ctx: BreakerContext): BreakerState {
  switch (event.type) {
    case 'tick':
      return tick(state, ctx)
    case 'acquire': {
      const s = tick(state, ctx)
      if (s.kind === 'half-open' && s.probesIssued < ctx.config.half_open_probes) {
        return { ...s, probesIssued: s.probesIssued + 1, lastProbeAt: ctx.now }
      }
      return s
    }
    case 'success':
      if (event.generation !== state.generation) return state
      if (state.kind === 'closed') return state.consecutiveFailures === 0 ? state : { ...state, consecutiveFailures: 0 }
      if (state.kind === 'half-open') {
        const succeeded = state.probesSucceeded + 1
        if (succeeded >= ctx.config.half_open_probes) return closed(state, ctx.now)
        return { ...state, probesSucceeded: succeeded }
      }
      return state
    case 'failure':
      if (event.generation !== state.generation) return state
      if (state.kind === 'closed') {
        const n = event.sameRequest ? state.consecutiveFailures : state.consecutiveFailures + 1
        if (n >= ctx.config.failures_to_open) return open(state, 0, 'consecutive_failures', ctx)
        if (ctx.windowTotal >= ctx.config.min_requests && ctx.windowFailures >= ctx.config.failure_rate_to_open * ctx.windowTotal) {
          return open(state, 0, 'failure_rate', ctx)
        }
        return { ...state, consecutiveFailures: n }
      }
      if (state.kind === 'half-open') return open(state, state.reopens + 1, 'probe_failed', ctx)
      return state
    case 'release':
      if (event.generation !== state.generation || state.kind !== 'half-open' || state.probesIssued === 0) return state
      return { ...state, probesIssued: state.probesIssued - 1 }
  }
}

/** Whether `acquire` took `prev` to `next` by granting a permit. */
export function granted(prev: BreakerState, next: BreakerState): boolean {
  if (next.kind === 'closed') return true
  if (next.kind === 'open') return false
  return prev.kind !== 'half-open' || prev.generation !== next.generation || next.probesIssued > prev.probesIssued
}

function tick(state: BreakerState, ctx: BreakerContext): BreakerState {
  if (state.kind === 'open') {
    if (ctx.now < state.until) return state
    return {
      kind: 'half-open',
      generation: state.generation + 1,
      since: ctx.now,
      reason: 'cooldown_elapsed',
      reopens: state.reopens,
      probesIssued: 0,
      probesSucceeded: 0,
      lastProbeAt: ctx.now,
    }
  }
  if (state.kind === 'half-open' && state.probesIssued > state.probesSucceeded && ctx.now >= state.lastProbeAt + ctx.probeTimeoutMs) {
    return open(state, state.reopens + 1, 'probe_timeout', ctx)
  }
  return state
}

function open(from: BreakerState, reopens: number, reason: BreakerReason, ctx: BreakerContext): OpenState {
  return {
    kind: 'open',
    generation: from.generation + 1,
    since: ctx.now,
    reason,
    until: ctx.now + cooldownMs(ctx.config, reopens, ctx.random),
    reopens,
  }
}

function closed(from: BreakerState, now: number): ClosedState {
  return { kind: 'closed', generation: from.generation + 1, since: now, reason: 'probes_succeeded', consecutiveFailures: 0 }
}

/** What `/tsfm/state` shows. Times are ms on the shared clock. */
export interface BreakerSnapshot {
  readonly state: BreakerStateKind
  readonly reason: BreakerReason
  readonly since: number
  readonly generation: number
  readonly consecutive_failures: number
  readonly window_s: number
  readonly window_successes: number
  readonly window_failures: number
  /** End of the cooldown while open, else null. */
  readonly open_until: number | null
  readonly reopens: number
  readonly probes_issued: number
  readonly probes_succeeded: number
  readonly transitions: number
}

function check(ok: boolean, key: string, rule: string, value: unknown): void {
  if (!ok) throw new TsfmError('TSFM_CONFIG_INVALID', `tsfm.circuit_breaker.${key} must be ${rule}, got ${quote(value)}`, `tsfm.circuit_breaker.${key}`)
}

function isInt(v: number, min: number): boolean {
  return Number.isInteger(v) && v >= min
}

type MutableContext = { -readonly [K in keyof BreakerContext]: BreakerContext[K] }

/**
 * The breaker the supervisor holds. `tryAcquire()` before an upstream call; `success(permit)` or
 * `failure(permit)` once its outcome (after retries) is known. Synchronous, allocation-free on the
 * closed path except for a state object when the consecutive-failure count changes.
 */
export class CircuitBreaker {
  readonly #config: CircuitBreakerConfig
  readonly #clock: Clock
  readonly #onTransition: ((event: BreakerTransition) => void) | undefined
  readonly #window: TimeWindow
  readonly #ctx: MutableContext
  #state: BreakerState
  #transitions: number
  /** Outcome events of the current generation, made once per transition, not once per call. */
  #successEvent: BreakerEvent
  #failureEvent: BreakerEvent
  #sameRequestFailureEvent: BreakerEvent

  constructor(
    config: CircuitBreakerConfig,
    clock: Clock,
    random: () => number = Math.random,
    onTransition?: (event: BreakerTransition) => void,
    probeTimeoutMs: number = DEFAULT_PROBE_TIMEOUT_MS,
  ) {
    check(isInt(config.failures_to_open, 1), 'failures_to_open', 'an integer >= 1', config.failures_to_open)
    check(config.failure_rate_to_open > 0 && config.failure_rate_to_open <= 1, 'failure_rate_to_open', 'in (0, 1]', config.failure_rate_to_open)
    check(config.window_s > 0 && Number.isFinite(config.window_s), 'window_s', 'a positive number', config.window_s)
    check(isInt(config.min_requests, 1), 'min_requests', 'an integer >= 1', config.min_requests)
    check(config.cooldown_s >= 0 && Number.isFinite(config.cooldown_s), 'cooldown_s', 'a number >= 0', config.cooldown_s)
    check(config.cooldown_multiplier >= 1 && Number.isFinite(config.cooldown_multiplier), 'cooldown_multiplier', 'a number >= 1', config.cooldown_multiplier)
    check(config.max_cooldown_s >= config.cooldown_s && Number.isFinite(config.max_cooldown_s), 'max_cooldown_s', 'a number >= cooldown_s', config.max_cooldown_s)
    check(config.cooldown_jitter >= 0 && config.cooldown_jitter < 1, 'cooldown_jitter', 'in [0, 1)', config.cooldown_jitter)
    check(isInt(config.half_open_probes, 1), 'half_open_probes', 'an integer >= 1', config.half_open_probes)
    if (!(probeTimeoutMs > 0)) throw new RangeError(`probeTimeoutMs should be a positive number, got ${probeTimeoutMs}`)
    this.#config = config
    this.#clock = clock
    this.#onTransition = onTransition
    this.#window = new TimeWindow(config.window_s * 1000)
    this.#ctx = { config, now: clock.now(), random, probeTimeoutMs, windowFailures: 0, windowTotal: 0 }
    this.#state = initialBreakerState(this.#ctx.now)
    this.#transitions = 0
    this.#successEvent = { type: 'success', generation: 0 }
    this.#failureEvent = { type: 'failure', generation: 0, sameRequest: false }
    this.#sameRequestFailureEvent = { type: 'failure', generation: 0, sameRequest: true }
  }

  /** The current state kind; an open breaker whose cooldown has passed reads as half-open. */
  get state(): BreakerStateKind {
    return this.#tick().kind
  }

  /** The full current state (for tests and diagnostics). */
  get current(): BreakerState {
    return this.#tick()
  }

  /** Probe permits issued in this half-open period and not yet resolved; 0 outside half-open. */
  get probesOutstanding(): number {
    const s = this.#tick()
    return s.kind === 'half-open' ? s.probesIssued - s.probesSucceeded : 0
  }

  /** Transitions so far (each one was also delivered to `onTransition`). */
  get transitions(): number {
    return this.#transitions
  }

  /**
   * A permit for one upstream call, or null: the caller answers `circuit_breaker_open`. In
   * half-open only `half_open_probes` permits are issued; later callers get null and the state does
   * not change.
   */
  tryAcquire(): Permit | null {
    const prev = this.#tick()
    if (prev.kind === 'closed') return prev.generation as Permit
    if (prev.kind === 'open') return null
    const next = this.#step(prev, ACQUIRE)
    return granted(prev, next) ? (next.generation as Permit) : null
  }

  /** The call made under `permit` succeeded (after its retries). */
  success(permit: Permit): void {
    this.#outcome(permit, true)
  }

  /**
   * The call made under `permit` failed (after its retries, or it ran out of deadline).
   * `sameRequest`: another member of the same multiplexed request was already reported. SPEC §5
   * counts consecutive failed upstream *requests*; counting each of a 32-series request's members
   * would open the breaker on one transient error (measured: the degraded profile — 20 % hangs,
   * 10 % 503s — then spent most of its run open, 44–63 % fallbacks). Each member still counts
   * in the failure-rate window.
   */
  failure(permit: Permit, sameRequest = false): void {
    this.#outcome(permit, false, sameRequest)
  }

  /**
   * The call made under `permit` ended without a verdict on the upstream (the caller's own error,
   * or its own deadline): it counts neither as a success nor as a failure, and a half-open probe
   * permit is handed back (resilience4j's `releasePermission` for ignored exceptions).
   */
  release(permit: Permit): void {
    const s = this.#tick()
    if (permit !== s.generation) return
    this.#step(s, { type: 'release', generation: permit })
  }

  snapshot(): BreakerSnapshot {
    const s = this.#tick()
    const now = this.#ctx.now
    return {
      state: s.kind,
      reason: s.reason,
      since: s.since,
      generation: s.generation,
      consecutive_failures: s.kind === 'closed' ? s.consecutiveFailures : 0,
      window_s: this.#config.window_s,
      window_successes: this.#window.successes(now),
      window_failures: this.#window.failures(now),
      open_until: s.kind === 'open' ? s.until : null,
      reopens: s.kind === 'closed' ? 0 : s.reopens,
      probes_issued: s.kind === 'half-open' ? s.probesIssued : 0,
      probes_succeeded: s.kind === 'half-open' ? s.probesSucceeded : 0,
      transitions: this.#transitions,
    }
  }

  #outcome(permit: Permit, success: boolean, sameRequest = false): void {
    const s = this.#tick()
    if (permit !== s.generation) return // late result of an earlier state: ignored (see the file comment)
    const ctx = this.#ctx
    if (s.kind === 'closed') {
      this.#window.record(ctx.now, success)
      ctx.windowFailures = this.#window.failures(ctx.now)
      ctx.windowTotal = this.#window.total(ctx.now)
    }
    this.#step(s, success ? this.#successEvent : sameRequest ? this.#sameRequestFailureEvent : this.#failureEvent)
  }

  /**
   * Bring the state up to the clock's now. Repeated until it settles, because one instant can hold
   * two transitions: a probe timeout with a zero cooldown opens and turns half-open again at once.
   * Each step is its own generation and its own event.
   */
  #tick(): BreakerState {
    this.#ctx.now = this.#clock.now()
    let s = this.#state
    for (let next = this.#step(s, TICK); next !== s; next = this.#step(s, TICK)) s = next
    return s
  }

  #step(prev: BreakerState, event: BreakerEvent): BreakerState {
    const next = transition(prev, event, this.#ctx)
    if (next === prev) return prev
    this.#state = next
    if (next.generation !== prev.generation) {
      if (next.kind === 'closed') this.#window.reset()
      this.#successEvent = { type: 'success', generation: next.generation }
      this.#failureEvent = { type: 'failure', generation: next.generation, sameRequest: false }
      this.#sameRequestFailureEvent = { type: 'failure', generation: next.generation, sameRequest: true }
      this.#transitions++
      this.#onTransition?.({ from: prev.kind, to: next.kind, at: next.since, reason: next.reason, generation: next.generation })
    }
    return next
  }
}
