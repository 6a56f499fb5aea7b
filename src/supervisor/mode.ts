/**
 * The mode machine (SPEC §5): normal / degraded / baseline-only, driven by the failure share among
 * requests that wanted the upstream. A pure `nextMode` over a discriminated union, and a thin
 * `ModeMachine` that owns the event window, the injected clock and the probe schedule.
 *
 * normal ──≥ 25 % over 3 min──▶ degraded
 * normal | degraded ──≥ 50 % over 5 min, or ≥ 80 % over 1 min (fast trip)──▶ baseline-only
 * baseline-only ──probes fail < 25 % over 2 min──▶ degraded
 * degraded ──< 15 % over 10 min and health green──▶ normal
 *
 * Decisions where the SPEC leaves room (each one is tested):
 *  - A rule judges only a complete window: it needs at least `window_s` since the last transition
 *    (or since start-up), and `min_requests` events in it. This is the SPEC's "(so at least 10
 *    minutes in degraded)" applied to every rule; it is also what makes the fast trip the path by
 *    which an incident reaches baseline-only within 2 minutes (1 min of evidence, not 10 events).
 *    In the incident profile (70 % failures at 4 req/s, breaker refusals counted) normal → degraded
 *    comes after ~45 s and the fast trip 60 s later: baseline-only at ~105 s
 *    (test/unit/supervisor/incident.test.ts).
 *  - Windows never look back past the last transition, both through that rule and in the window
 *    itself (see TimeWindow.countSince); and an outcome of a call *started* before the last
 *    transition is not counted at all (`record(outcome, startedAt)`), so a late normal-mode result
 *    can never pose as a baseline-only probe.
 *  - Periodic probes run in degraded mode too, not only in baseline-only. Without them a degraded
 *    runner with no client traffic would have no events and could never satisfy "≥ min_requests
 *    over 10 minutes" — it would stay degraded forever. With the default 5 s interval 10 minutes
 *    hold 120 probe events.
 *  - Probes in baseline-only run under degraded limits (no retries, 900 ms): one probe, one attempt.
 *  - Health is presumed green until the supervisor reports otherwise, so a runner with the health
 *    probe disabled (`adapter.health_interval_s: 0`) is not held in degraded forever.
 *  - Exit rules compare with `<`, entry rules with `≥`; when several entry rules match, the more
 *    severe mode wins (fast trip, then 5 min, then degraded).
 */
import type { Clock } from '../clock/clock.js'
import type { DegradationConfig } from '../config/types.js'
import { TsfmError, quote } from '../errors.js'
import { TimeWindow } from './time-window.js'

export type ModeKind = 'normal' | 'degraded' | 'baseline-only'

interface ModeOf<K extends ModeKind> {
  readonly kind: K
  /** When this mode was entered (ms on the shared clock). */
  readonly since: number
  /** The failure share that caused the entry (0 at start-up). */
  readonly share: number
  /** The window of the rule that caused the entry (0 at start-up). */
  readonly window_s: number
}

export type Mode = ModeOf<'normal'> | ModeOf<'degraded'> | ModeOf<'baseline-only'>

/** Read-only access to the events, for the pure transition function. */
export interface ShareView {
  /**
   * Failure share among the events of the last `windowS` seconds recorded no earlier than `since`,
   * or NaN when there are fewer than `minEvents` of them.
   */
  share(windowS: number, since: number, minEvents: number): number
}

/** Transition events for logs and metrics: exactly one per mode change. */
export interface ModeTransition {
  readonly from: ModeKind
  readonly to: ModeKind
  readonly at: number
  readonly share: number
  readonly window_s: number
}

export function initialMode(now: number): Mode {
  return { kind: 'normal', since: now, share: 0, window_s: 0 }
}

function enter(kind: ModeKind, now: number, share: number, windowS: number): Mode {
  return { kind, since: now, share, window_s: windowS }
}

/** A rule's share over a complete window since the last transition, or NaN if it cannot judge yet. */
function judge(mode: Mode, view: ShareView, windowS: number, config: DegradationConfig, now: number): number {
  if (now - mode.since < windowS * 1000) return Number.NaN
  return view.share(windowS, mode.since, config.min_requests)
}

/** The pure transition function: `mode` itself when nothing changes. */
export function nextMode(mode: Mode, view: ShareView, healthGreen: boolean, config: DegradationConfig, now: number): Mode {
  if (!config.enabled) return mode.kind === 'normal' ? mode : enter('normal', now, 0, 0)
  if (mode.kind === 'baseline-only') {
    const s = judge(mode, view, config.baseline_only_exit_window_s, config, now)
    return s < config.baseline_only_exit_failure_rate ? enter('degraded', now, s, config.baseline_only_exit_window_s) : mode
  }
  let s = judge(mode, view, config.fast_trip_window_s, config, now)
  if (s >= config.fast_trip_failure_rate) return enter('baseline-only', now, s, config.fast_trip_window_s)
  s = judge(mode, view, config.baseline_only_enter_window_s, config, now)
  if (s >= config.baseline_only_enter_failure_rate) return enter('baseline-only', now, s, config.baseline_only_enter_window_s)
  if (mode.kind === 'normal') {
    s = judge(mode, view, config.degraded_enter_window_s, config, now)
    return s >= config.degraded_enter_failure_rate ? enter('degraded', now, s, config.degraded_enter_window_s) : mode
  }
  if (!healthGreen) return mode
  s = judge(mode, view, config.degraded_exit_window_s, config, now)
  return s < config.degraded_exit_failure_rate ? enter('normal', now, s, config.degraded_exit_window_s) : mode
}

/** What `/tsfm/state` shows. */
export interface ModeSnapshot {
  readonly mode: ModeKind
  readonly since: number
  /** Share and window of the rule that caused the current mode (0 at start-up). */
  readonly share: number
  readonly window_s: number
  readonly health_green: boolean
  readonly transitions: number
  /** Events since the last transition (bounded by the longest configured window). */
  readonly events: number
  readonly failures: number
}

function check(ok: boolean, key: string, rule: string, value: unknown): void {
  if (!ok) throw new TsfmError('TSFM_CONFIG_INVALID', `tsfm.degradation.${key} must be ${rule}, got ${quote(value)}`, `tsfm.degradation.${key}`)
}

const WINDOW_KEYS = [
  'degraded_enter_window_s',
  'baseline_only_enter_window_s',
  'fast_trip_window_s',
  'baseline_only_exit_window_s',
  'degraded_exit_window_s',
] as const

/**
 * The mode machine the supervisor holds. It calls `record()` for every request that wanted the
 * upstream (an upstream failure, `deadline_exceeded`, `queue_timeout` or a breaker refusal is a
 * failure; gate fallbacks, cache hits and mode-forced answers are not recorded), `record()` for
 * every probe, `setHealth()` with each health-probe result, and `evaluate()` on a periodic tick
 * (e.g. every second) so that a mode can change without client traffic.
 */
export class ModeMachine {
  readonly #config: DegradationConfig
  readonly #clock: Clock
  readonly #onTransition: ((event: ModeTransition) => void) | undefined
  readonly #window: TimeWindow
  readonly #view: ShareView
  readonly #counts: { successes: number; failures: number }
  #mode: Mode
  #healthGreen: boolean
  #now: number
  #transitions: number
  #requestsSinceProbe: number
  #lastProbeAt: number

  constructor(config: DegradationConfig, clock: Clock, onTransition?: (event: ModeTransition) => void) {
    check(Number.isInteger(config.min_requests) && config.min_requests >= 1, 'min_requests', 'an integer >= 1', config.min_requests)
    for (const key of WINDOW_KEYS) check(config[key] > 0 && Number.isFinite(config[key]), key, 'a positive number', config[key])
    check(config.degraded_timeout_ms > 0, 'degraded_timeout_ms', 'a positive number', config.degraded_timeout_ms)
    check(config.probe_interval_s > 0, 'probe_interval_s', 'a positive number', config.probe_interval_s)
    check(
      Number.isInteger(config.probe_every_n_requests) && config.probe_every_n_requests >= 1,
      'probe_every_n_requests',
      'an integer >= 1',
      config.probe_every_n_requests,
    )
    this.#config = config
    this.#clock = clock
    this.#onTransition = onTransition
    // every rule's window keeps running totals, so judging them on each record is O(rules)
    const windowsMs = WINDOW_KEYS.map((k) => config[k] * 1000)
    this.#window = new TimeWindow(Math.max(...windowsMs), { trackMs: windowsMs })
    // One view object for the machine's lifetime; it reads the time of the evaluation in progress.
    this.#view = { share: (w, since, min) => this.#window.shareSince(this.#now, w * 1000, since, min) }
    this.#counts = { successes: 0, failures: 0 }
    this.#now = clock.now()
    this.#mode = initialMode(this.#now)
    this.#healthGreen = true
    this.#transitions = 0
    this.#requestsSinceProbe = 0
    this.#lastProbeAt = Number.NEGATIVE_INFINITY
  }

  get mode(): Mode {
    return this.#mode
  }

  get healthGreen(): boolean {
    return this.#healthGreen
  }

  /** Transitions so far (each one was also delivered to `onTransition`). */
  get transitions(): number {
    return this.#transitions
  }

  /**
   * One event: the outcome of a request that wanted the upstream, or of a probe. `startedAt` is when
   * the call began; an outcome of a call started before the last transition is ignored.
   */
  record(outcome: 'success' | 'failure', startedAt?: number): void {
    const now = this.#clock.now()
    if (startedAt !== undefined && startedAt < this.#mode.since) return
    this.#window.record(now, outcome === 'success')
    this.#evaluateAt(now)
  }

  /** The latest upstream health-probe result (`GET /api/version`). */
  setHealth(green: boolean): void {
    this.#healthGreen = green
    this.#evaluateAt(this.#clock.now())
  }

  /** Re-judge the windows now; the supervisor calls this on its periodic tick. */
  evaluate(): Mode {
    return this.#evaluateAt(this.#clock.now())
  }

  /** The first-attempt timeout: `degraded_timeout_ms` (if shorter) outside normal mode. */
  attemptTimeoutMs(normalMs: number): number {
    return this.#mode.kind === 'normal' ? normalMs : Math.min(normalMs, this.#config.degraded_timeout_ms)
  }

  /** Retries allowed: none outside normal mode. */
  maxRetries(normal: number): number {
    return this.#mode.kind === 'normal' ? normal : 0
  }

  /**
   * For a client request in baseline-only mode: true for one request in `probe_every_n_requests`
   * (the n-th, 2n-th, … since entering the mode), which then goes upstream as a probe. Always false
   * in the other modes, where every request goes upstream anyway.
   */
  shouldProbe(): boolean {
    if (this.#mode.kind !== 'baseline-only') return false
    this.#requestsSinceProbe++
    if (this.#requestsSinceProbe < this.#config.probe_every_n_requests) return false
    this.#requestsSinceProbe = 0
    return true
  }

  /**
   * Whether the periodic tiny probe should be sent now (degraded and baseline-only only). A true
   * answer claims the slot: it is true at most once per `probe_interval_s`. The supervisor sends the
   * probe and records its outcome like any other event.
   */
  probeDue(): boolean {
    if (this.#mode.kind === 'normal') return false
    const now = this.#clock.now()
    if (now - this.#lastProbeAt < this.#config.probe_interval_s * 1000) return false
    this.#lastProbeAt = now
    return true
  }

  snapshot(): ModeSnapshot {
    const m = this.#mode
    const now = this.#clock.now()
    const c = this.#window.countSince(now, this.#window.spanMs, m.since, this.#counts)
    return {
      mode: m.kind,
      since: m.since,
      share: m.share,
      window_s: m.window_s,
      health_green: this.#healthGreen,
      transitions: this.#transitions,
      events: c.successes + c.failures,
      failures: c.failures,
    }
  }

  #evaluateAt(now: number): Mode {
    this.#now = now
    const prev = this.#mode
    const next = nextMode(prev, this.#view, this.#healthGreen, this.#config, now)
    if (next === prev) return prev
    this.#mode = next
    this.#transitions++
    this.#requestsSinceProbe = 0
    this.#onTransition?.({ from: prev.kind, to: next.kind, at: now, share: next.share, window_s: next.window_s })
    return next
  }
}
