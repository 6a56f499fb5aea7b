import { Mailbox } from '../actor/mailbox.js'
import { Tickets } from '../actor/tickets.js'
import { ForecastCache } from '../cache/forecast-cache.js'
import { cacheKey } from '../cache/key.js'
import type { Clock } from '../clock/clock.js'
import type { TsfmConfig } from '../config/types.js'
import { TsfmError } from '../errors.js'
import type { UpstreamHealth, UpstreamOutcome, UpstreamRequestRecord } from '../io/types.js'
import type { Logger } from '../log.js'
import { BREAKER_VALUE, MODE_VALUE, type Metrics } from '../metrics/metrics.js'
import type { FallbackReason } from '../reasons.js'
import { freqStepMs } from '../request/freq.js'
import type { ForecastRequest } from '../request/types.js'
import type { BreakerStateName, ForecastResponse, ModeName } from '../response.js'
import { bandToPaths, buildAnswer, reanswer, warningsFor, type AnswerState, type Timings } from './answer.js'
import { CircuitBreaker, type BreakerTransition, type Permit } from './breaker.js'
import { Flight, Waiter, type AnswerSink } from './flight.js'
import { emergencyBand } from './emergency-band.js'
import { Gates } from './gates.js'
import { MarketTable } from './market.js'
import { ModeMachine, type ModeTransition } from './mode.js'
import type { BandResult, MathPort, UpstreamPort } from './ports.js'
import { ReasonWindow } from './reason-window.js'
import { RoutingPolicy } from './routing.js'
import type { RunnerState } from './state.js'
import { TimerHeap } from './timer-heap.js'
import { inputLength, probeRequest, upstreamJob } from './upstream-job.js'

export interface SupervisorDeps {
  readonly config: TsfmConfig
  readonly clock: Clock
  readonly metrics: Metrics
  readonly logger: Logger
  readonly random?: () => number
}

export interface SubmitOptions {
  /** An absolute deadline earlier than arrival + `deadline_budget_ms` (a cycle's budget). */
  readonly deadline?: number
  /** Returned untouched on the Waiter (the cycle uses it for the request's index). */
  readonly tag?: number
  /** `high`: served before other waiting markets when upstream slots are scarce. */
  readonly priority?: 'high' | 'normal' | 'low'
}

type Listener<E> = (event: E) => void

/** A periodic baseline-only probe in flight (ticket owner). */
class Probe {
  constructor(readonly startedAt: number) {}
}

type TicketOwner = Flight | Probe

const SUBMIT = 0
const UPSTREAM = 1
const MATH = 2
const WAITER_DUE = 3
const QUEUE_DUE = 4
const ABORT = 5
const TICK = 6

/** One message in the supervisor's mailbox; one shape for all kinds (fields unused stay null). */
class Msg {
  constructor(
    readonly kind: number,
    readonly waiter: Waiter | null,
    readonly flight: Flight | null,
    readonly req: ForecastRequest | null,
    readonly outcome: UpstreamOutcome | null,
    readonly ticket: number,
    readonly band: BandResult | null,
  ) {}
}

/**
 * The supervisor actor (SPEC §3–§5): owns the cache, the single-flight table, the market cells,
 * the circuit breaker and the mode machine, and decides for every request whether the upstream
 * is worth asking. Everything that reaches it — submissions, upstream outcomes, math results,
 * timers, aborts — is a message in one mailbox processed to completion, so an answer delivered to
 * a sink that synchronously submits again never re-enters half-updated state. Results of the
 * I/O actor and the math pool carry tickets; a result whose ticket was closed is dropped.
 */
export class Supervisor {
  readonly #config: TsfmConfig
  readonly #clock: Clock
  readonly #metrics: Metrics
  readonly #log: Logger
  readonly #inbox: Mailbox<Msg>
  readonly #cache: ForecastCache<ForecastResponse>
  readonly #flights = new Map<string, Flight>()
  readonly #tickets = new Tickets<TicketOwner>()
  readonly #markets: MarketTable
  readonly #gates: Gates
  readonly #breaker: CircuitBreaker
  readonly #mode: ModeMachine
  readonly #waiterTimers: TimerHeap<Waiter>
  readonly #queueTimers: TimerHeap<Flight>
  readonly #reasons: ReasonWindow
  readonly #budgetMs: number
  readonly #queueTimeoutMs: number
  readonly #normalTimeoutMs: number
  readonly #minWidth: number
  readonly #maxWidth: number
  readonly #modeListeners: Listener<ModeTransition>[] = []
  readonly #breakerListeners: Listener<BreakerTransition>[] = []
  #math: MathPort | null = null
  #upstream: UpstreamPort | null = null
  #health: UpstreamHealth | null = null
  #open = 0
  #closing = false
  #drained: (() => void) | null = null
  #tick: ReturnType<Clock['setTimeout']> | null = null
  #answered = 0
  #lateDropped = 0
  #upstreamEwma = 0
  /** batch_id of the last failed upstream outcome (0 = none or an outcome of its own). */
  #lastFailedBatch = 0

  constructor(deps: SupervisorDeps) {
    const { config, clock, metrics } = deps
    this.#config = config
    this.#clock = clock
    this.#metrics = metrics
    this.#log = deps.logger
    this.#inbox = new Mailbox<Msg>(1 << 16, (m) => this.#handle(m))
    this.#cache = new ForecastCache<ForecastResponse>(config.cache, clock)
    this.#markets = new MarketTable(config.perf.per_market_inflight_limit, config.perf.worker_concurrency, config.perf.mailbox_capacity)
    this.#metrics.readQueuesFrom(this.#markets)
    this.#gates = new Gates(config, new RoutingPolicy(config.routing))
    this.#breaker = new CircuitBreaker(
      config.circuit_breaker,
      clock,
      deps.random ?? Math.random,
      (e) => this.#onBreakerTransition(e),
      config.adapter.deadline_budget_ms,
    )
    this.#mode = new ModeMachine(config.degradation, clock, (e) => this.#onModeTransition(e))
    this.#waiterTimers = new TimerHeap<Waiter>(clock, (w) => this.#post(WAITER_DUE, w, null, null, null, 0, null))
    this.#queueTimers = new TimerHeap<Flight>(clock, (f) => this.#post(QUEUE_DUE, null, f, null, null, 0, null))
    this.#reasons = new ReasonWindow(300_000)
    this.#budgetMs = config.adapter.deadline_budget_ms
    this.#queueTimeoutMs = config.perf.queue_timeout_ms
    this.#normalTimeoutMs = Math.round(config.adapter.timeout_s * 1000)
    this.#minWidth = config.interval_sanity.min_width
    this.#maxWidth = config.interval_sanity.max_width
    this.#scheduleTick()
  }

  /** Wire the math pool and the I/O actor (they are created with sinks pointing back here). */
  attach(math: MathPort, upstream: UpstreamPort): void {
    this.#math = math
    this.#upstream = upstream
  }

  // ---- entry points (each becomes a message) ------------------------------------------

  /** Ask for a forecast of a validated request; the answer goes to `sink`. */
  submit(req: ForecastRequest, sink: AnswerSink, opts?: SubmitOptions): Waiter {
    const now = this.#clock.now()
    const budgetEnd = now + this.#budgetMs
    const deadline = opts?.deadline !== undefined && opts.deadline < budgetEnd ? opts.deadline : budgetEnd
    const waiter = new Waiter(sink, now, deadline, opts?.tag ?? 0)
    if (this.#closing) {
      waiter.state = 'done'
      sink.fail(new TsfmError('TSFM_RUNNER_CLOSED', 'the runner is closing and accepts no new requests'), waiter)
      return waiter
    }
    this.#open++
    waiter.high = opts?.priority === 'high'
    this.#post(SUBMIT, waiter, null, req, null, 0, null)
    return waiter
  }

  /** Withdraw a waiting request (its AbortSignal fired); it is answered with TSFM_ABORTED. */
  abort(waiter: Waiter): void {
    this.#post(ABORT, waiter, null, null, null, 0, null)
  }

  /** Sink for the I/O actor's outcomes. */
  onUpstream(outcome: UpstreamOutcome): void {
    this.#post(UPSTREAM, null, null, null, outcome, outcome.ticket, null)
  }

  /** Sink for the I/O actor's per-request records (metrics only). */
  onUpstreamRecord(rec: UpstreamRequestRecord): void {
    this.#metrics.tollama(rec.endpoint, rec.outcome, rec.ms)
    if (rec.endpoint !== '/api/version') this.#metrics.upstreamBatchSize.observe(rec.series)
  }

  /** Sink for the math pool's results. */
  onMath(ticket: number, band: BandResult): void {
    this.#post(MATH, null, null, null, null, ticket, band)
  }

  /** The I/O actor's health probe result (drives degraded → normal recovery). */
  onHealth(health: UpstreamHealth): void {
    this.#health = health
    this.#mode.setHealth(health.ok)
  }

  on(event: 'mode', fn: Listener<ModeTransition>): void
  on(event: 'breaker', fn: Listener<BreakerTransition>): void
  on(event: 'mode' | 'breaker', fn: Listener<ModeTransition> | Listener<BreakerTransition>): void {
    if (event === 'mode') this.#modeListeners.push(fn as Listener<ModeTransition>)
    else this.#breakerListeners.push(fn as Listener<BreakerTransition>)
  }

  get breakerState(): BreakerStateName {
    return this.#breaker.state
  }

  get modeName(): ModeName {
    return this.#mode.mode.kind
  }

  /** Requests accepted and not yet answered. */
  get open(): number {
    return this.#open
  }

  /**
   * Stop accepting requests and resolve once every accepted one is answered (each is bounded by
   * its deadline, so this always ends). Background refreshes still running are not waited for.
   */
  close(): Promise<void> {
    this.#closing = true
    if (this.#tick !== null) this.#clock.clearTimeout(this.#tick)
    this.#tick = null
    if (this.#open === 0) return this.#stopTimers()
    return new Promise<void>((resolve) => {
      this.#drained = resolve
    }).then(() => this.#stopTimers())
  }

  /**
   * A baseline answer computed now, outside the pipeline: for requests a cycle will not send
   * (`cycle_budget_exhausted`). Counted like every other fallback.
   */
  baselineNow(req: ForecastRequest, reason: FallbackReason): ForecastResponse {
    const flight = new Flight('', req, this.#clock.now(), false)
    flight.route = this.#gates.routing.select(req)
    this.#count(reason)
    const band = (this.#math as MathPort).baselineNow(req)
    const answer = this.#baselineAnswer(flight, band, band.ok ? reason : 'baseline_error', { queue: 0, upstream: 0, total: 0 })
    this.#metrics.requestLatency.baseline.observe(0)
    this.#metrics.request(200, 'baseline')
    this.#answered++
    return answer
  }

  /** Smoothed latency of successful upstream calls (ms), 0 before the first one. */
  get upstreamLatencyMs(): number {
    return this.#upstreamEwma
  }

  state(): RunnerState {
    const now = this.#clock.now()
    const cache = this.#cache.stats()
    const lookups = cache.hits + cache.stale + cache.misses
    return {
      breaker: this.#breaker.snapshot(),
      mode: this.#mode.snapshot(),
      queue: {
        inflight: this.#markets.inflight,
        queued: this.#markets.queued,
        markets: this.#markets.cells,
        flights: this.#flights.size,
        open_requests: this.#open,
        worker_concurrency: this.#config.perf.worker_concurrency,
      },
      cache: {
        size: cache.size,
        max_entries: cache.maxEntries,
        hits: cache.hits,
        stale: cache.stale,
        misses: cache.misses,
        evictions: cache.evictions,
        hit_rate: lookups === 0 ? 0 : (cache.hits + cache.stale) / lookups,
      },
      upstream: {
        base_url: this.#config.adapter.base_url,
        endpoint: this.#health?.endpoint ?? '/api/forecast',
        healthy: this.#health?.ok ?? null,
        version: this.#health?.version ?? null,
        checked_at: this.#health?.checked_at ?? null,
      },
      fallbacks_last_5m: this.#reasons.counts(now),
      answered: this.#answered,
      late_results_dropped: this.#lateDropped,
    }
  }

  // ---- the mailbox ----------------------------------------------------------------------

  #post(
    kind: number,
    waiter: Waiter | null,
    flight: Flight | null,
    req: ForecastRequest | null,
    outcome: UpstreamOutcome | null,
    ticket: number,
    band: BandResult | null,
  ): void {
    const msg = new Msg(kind, waiter, flight, req, outcome, ticket, band)
    if (this.#inbox.offer(msg) === 'full') {
      // 65 536 messages generated while handling one message cannot happen in practice; if it
      // ever does, handling inline is safer than losing an answer.
      this.#log.error({ kind }, 'supervisor mailbox full; handling inline')
      this.#handle(msg)
    }
  }

  #handle(m: Msg): void {
    try {
      switch (m.kind) {
        case SUBMIT:
          return this.#onSubmit(m.waiter as Waiter, m.req as ForecastRequest)
        case UPSTREAM:
          return this.#onOutcome(m.outcome as UpstreamOutcome)
        case MATH:
          return this.#onBand(m.ticket, m.band as BandResult)
        case WAITER_DUE:
          return this.#onWaiterDue(m.waiter as Waiter)
        case QUEUE_DUE:
          return this.#onQueueDue(m.flight as Flight)
        case ABORT:
          return this.#onAbort(m.waiter as Waiter)
        case TICK:
          return this.#onTick()
      }
    } catch (e) {
      // A bug must not strand the requests behind it; the error is logged, not swallowed silently.
      this.#log.error({ err: e, kind: m.kind }, 'supervisor message handler failed')
      if (m.waiter !== null && m.waiter.state !== 'done') this.#emergency(m.waiter, 'baseline_error')
    }
  }

  // ---- pipeline -------------------------------------------------------------------------

  #onSubmit(waiter: Waiter, req: ForecastRequest): void {
    const key = cacheKey(req)
    const hit = this.#cache.get(key)
    if (hit.kind !== 'miss') {
      if (hit.kind === 'fresh') this.#metrics.cacheRequests.hit.inc()
      else this.#metrics.cacheRequests.stale.inc()
      this.#answer(waiter, reanswer(hit.value, { cacheHit: true, cacheStale: hit.kind === 'stale' }, this.#answerState(), this.#timings(waiter, 0, 0)))
      if (hit.kind === 'stale' && hit.revalidate) this.#refresh(key, req)
      return
    }
    this.#metrics.cacheRequests.miss.inc()
    const existing = this.#flights.get(key)
    if (existing !== undefined && existing.state !== 'done') {
      this.#join(existing, waiter)
      return
    }
    const flight = new Flight(key, req, waiter.deadline, false)
    flight.enqueuedAt = waiter.arrivedAt
    flight.high = waiter.high
    this.#flights.set(key, flight)
    this.#join(flight, waiter)
    this.#start(flight)
  }

  #join(flight: Flight, waiter: Waiter): void {
    waiter.flight = flight
    flight.waiters.push(waiter)
    this.#waiterTimers.schedule(waiter, waiter.deadline)
  }

  /** Stale-while-revalidate: one background flight refreshes the entry. */
  #refresh(key: string, req: ForecastRequest): void {
    if (this.#flights.has(key)) return // already being computed; its answer refreshes the entry
    const now = this.#clock.now()
    const flight = new Flight(key, req, now + this.#budgetMs, true)
    flight.enqueuedAt = now
    this.#flights.set(key, flight)
    this.#start(flight)
  }

  #start(flight: Flight): void {
    const verdict = this.#gates.check(flight.req)
    flight.route = verdict.route
    if (verdict.reason !== null) return this.#fallback(flight, verdict.reason, true)
    if (this.#mode.mode.kind === 'baseline-only') {
      if (!this.#mode.shouldProbe()) return this.#fallback(flight, 'degradation_baseline_only', false)
      flight.probe = true
    }
    if (this.#breaker.state === 'open') return this.#refused(flight)
    const admitted = this.#markets.admit(flight)
    if (admitted === 'full') return this.#fallback(flight, 'mailbox_full', false)
    if (admitted === 'dispatch') {
      this.#markets.take(flight)
      this.#dispatch(flight)
      return
    }
    this.#queueTimers.schedule(flight, this.#clock.now() + this.#queueTimeoutMs)
  }

  /** The breaker refused: stale-if-error if there is one, else `circuit_breaker_open`. */
  #refused(flight: Flight): void {
    this.#recordMode(flight, false)
    this.#failedUpstream(flight, 'circuit_breaker_open')
  }

  /** `flight` holds its market and global slots: acquire the breaker and send it upstream. */
  #dispatch(flight: Flight): void {
    const now = this.#clock.now()
    flight.queueMs = now - flight.enqueuedAt
    this.#metrics.queueWait.observe(flight.queueMs)
    const permit = this.#breaker.tryAcquire()
    if (permit === null) {
      this.#markets.release(flight)
      this.#refused(flight)
      return
    }
    flight.permit = permit
    flight.state = 'upstream'
    flight.dispatchedAt = now
    const ticket = this.#tickets.issue(flight)
    flight.ticket = ticket
    const job = upstreamJob(
      flight.req,
      ticket,
      flight.deadline,
      this.#mode.attemptTimeoutMs(this.#normalTimeoutMs),
      this.#mode.maxRetries(this.#config.adapter.retry_count),
      this.#config.input_len_steps,
    )
    ;(this.#upstream as UpstreamPort).submit(job)
  }

  /** Hand out freed slots to queued flights, FIFO over markets. */
  #pump(): void {
    let flight: Flight | undefined
    while ((flight = this.#markets.next()) !== undefined) {
      this.#queueTimers.cancel(flight)
      this.#dispatch(flight)
    }
  }

  #onQueueDue(flight: Flight): void {
    if (flight.state !== 'queued') return
    flight.state = 'fallback'
    this.#markets.unqueue(flight)
    if (flight.background) return this.#finish(flight)
    this.#recordMode(flight, false)
    this.#fallback(flight, 'queue_timeout', false)
  }

  #onOutcome(outcome: UpstreamOutcome): void {
    const owner = this.#tickets.take(outcome.ticket)
    if (owner === undefined) {
      this.#lateDropped++
      return
    }
    if (owner instanceof Probe) {
      this.#mode.record(outcome.ok ? 'success' : 'failure', owner.startedAt)
      return
    }
    const flight = owner as Flight
    flight.ticket = 0
    this.#markets.release(flight)
    flight.upstreamMs = outcome.upstream_ms
    const permit = flight.permit as Permit
    flight.permit = null
    if (outcome.ok) {
      this.#upstreamEwma = this.#upstreamEwma === 0 ? outcome.upstream_ms : 0.8 * this.#upstreamEwma + 0.2 * outcome.upstream_ms
      this.#breaker.success(permit)
      this.#recordMode(flight, true)
      flight.state = 'math'
      const ticket = this.#tickets.issue(flight)
      flight.ticket = ticket
      ;(this.#math as MathPort).postprocess(ticket, flight.req, outcome.values)
    } else {
      // The members of one failed multiplexed request arrive together: count that request once
      // toward the breaker's consecutive failures (each member still counts in its rate window).
      const sameRequest = outcome.batch_id !== 0 && outcome.batch_id === this.#lastFailedBatch
      this.#lastFailedBatch = outcome.batch_id
      this.#breaker.failure(permit, sameRequest)
      this.#recordMode(flight, false)
      this.#failedUpstream(flight, outcome.reason)
    }
    this.#pump()
  }

  /** The upstream failed (or refused): serve stale-if-error when possible, else the baseline. */
  #failedUpstream(flight: Flight, reason: FallbackReason): void {
    const stale = this.#cache.getStaleIfError(flight.key)
    if (stale === undefined) return this.#fallback(flight, reason, false)
    flight.state = 'done'
    for (const w of flight.waiters) {
      this.#answer(w, reanswer(stale, { cacheHit: true, cacheStale: true, reason: 'stale_if_error' }, this.#answerState(), this.#timings(w, flight.queueMs, flight.upstreamMs)))
    }
    this.#finish(flight)
  }

  #onBand(ticket: number, band: BandResult): void {
    const owner = this.#tickets.take(ticket)
    if (owner === undefined) {
      this.#lateDropped++
      return
    }
    const flight = owner as Flight
    flight.ticket = 0
    if (flight.state === 'math') {
      if (!band.ok) return this.#failedUpstream(flight, 'upstream_invalid_payload')
      const answer = buildAnswer(
        flight.req,
        bandToPaths(band.values, flight.req.quantiles, flight.req.horizon_steps),
        { runtime: 'tollama', reason: null, warnings: warningsFor(band.warnings, null), route: flight.route, cacheHit: false, cacheStale: false },
        this.#answerState(),
        { queue: flight.queueMs, upstream: flight.upstreamMs, total: 0 },
        inputLength(flight.req, this.#config),
      )
      this.#cache.set(flight.key, answer)
      this.#answerAll(flight, answer)
      return this.#finish(flight)
    }
    if (flight.state === 'fallback') return this.#answerFlightFallback(flight, band)
  }

  /** A flight-wide fallback: every waiter gets the baseline with `reason`. */
  #fallback(flight: Flight, reason: FallbackReason, cacheable: boolean): void {
    flight.state = 'fallback'
    flight.fallbackReason = reason
    flight.fallbackCacheable = cacheable
    this.#count(reason)
    if (flight.background && !cacheable) return this.#finish(flight)
    const math = this.#math as MathPort
    const now = keptBand(flight) ?? math.tryBaseline(flight.req)
    if (now !== null) return this.#answerFlightFallback(flight, now)
    const ticket = this.#tickets.issue(flight)
    flight.ticket = ticket
    math.baseline(ticket, flight.req)
  }

  #answerFlightFallback(flight: Flight, band: BandResult): void {
    const reason = band.ok ? (flight.fallbackReason as FallbackReason) : 'baseline_error'
    const answer = this.#baselineAnswer(flight, band, reason, { queue: flight.queueMs, upstream: flight.upstreamMs, total: 0 })
    if (flight.fallbackCacheable && band.ok) this.#cache.set(flight.key, answer)
    this.#answerAll(flight, answer)
    this.#finish(flight)
  }

  /** Every baseline answer is built here; the flight keeps its band for any later fallback. */
  #baselineAnswer(flight: Flight, band: BandResult, reason: FallbackReason, timings: Timings): ForecastResponse {
    if (band.ok && flight.band === null) {
      flight.band = band.values
      flight.bandWarnings = band.warnings
    }
    const values = band.ok ? band.values : emergencyBand(flight.req, this.#minWidth, this.#maxWidth)
    return buildAnswer(
      flight.req,
      bandToPaths(values, flight.req.quantiles, flight.req.horizon_steps),
      { runtime: 'baseline', reason, warnings: warningsFor(band.ok ? band.warnings : 0, reason), route: flight.route, cacheHit: false, cacheStale: false },
      this.#answerState(),
      timings,
      inputLength(flight.req, this.#config),
    )
  }

  #answerAll(flight: Flight, answer: ForecastResponse): void {
    const waiters = flight.waiters
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i] as Waiter
      if (w.state !== 'waiting') continue
      this.#answer(w, reanswer(answer, { cacheHit: false, cacheStale: false }, this.#answerState(), this.#timings(w, flight.queueMs, flight.upstreamMs)))
    }
  }

  #onWaiterDue(waiter: Waiter): void {
    if (waiter.state !== 'waiting') return
    const flight = waiter.flight as Flight
    if (flight.state === 'upstream') this.#recordMode(flight, false)
    this.#detach(waiter)
    this.#count('deadline_exceeded')
    this.#fallbackWaiter(waiter, 'deadline_exceeded')
  }

  /**
   * Answer one waiter from the baseline with its own reason (the flight may go on). The band is
   * computed here, synchronously (a few µs), because a deadline answer is due now and must not
   * wait behind a math batch; it is kept on the flight for any later fallback of the same flight.
   */
  #fallbackWaiter(waiter: Waiter, reason: FallbackReason): void {
    const flight = waiter.flight as Flight
    this.#answerFallback(waiter, flight, reason, keptBand(flight) ?? (this.#math as MathPort).baselineNow(flight.req))
  }

  #answerFallback(waiter: Waiter, flight: Flight, reason: FallbackReason, band: BandResult): void {
    const timings = this.#timings(waiter, flight.queueMs, flight.state === 'upstream' ? this.#clock.now() - flight.dispatchedAt : flight.upstreamMs)
    this.#answer(waiter, this.#baselineAnswer(flight, band, band.ok ? reason : 'baseline_error', timings))
  }

  #onAbort(waiter: Waiter): void {
    if (waiter.state === 'done') return
    this.#detach(waiter)
    waiter.state = 'done'
    this.#waiterTimers.cancel(waiter)
    this.#close1()
    waiter.sink.fail(new TsfmError('TSFM_ABORTED', 'the request was aborted by its caller'), waiter)
  }

  /** Take a waiter out of its flight; a queued flight nobody waits for any more is dropped. */
  #detach(waiter: Waiter): void {
    const flight = waiter.flight
    if (flight === null) return
    const i = flight.waiters.indexOf(waiter)
    if (i >= 0) flight.waiters.splice(i, 1)
    if (flight.waiters.length === 0 && !flight.background && flight.state === 'queued') {
      flight.state = 'done'
      this.#queueTimers.cancel(flight)
      this.#markets.unqueue(flight)
      this.#finish(flight)
    }
  }

  #finish(flight: Flight): void {
    flight.state = 'done'
    if (this.#flights.get(flight.key) === flight) this.#flights.delete(flight.key)
    if (flight.background) this.#cache.endRevalidate(flight.key)
  }

  /** The flight's one event for the mode machine (SPEC §5 "failure share"). */
  #recordMode(flight: Flight, ok: boolean): void {
    if (flight.modeRecorded) return
    flight.modeRecorded = true
    this.#mode.record(ok ? 'success' : 'failure', flight.enqueuedAt)
  }

  #answer(waiter: Waiter, response: ForecastResponse): void {
    waiter.state = 'done'
    this.#waiterTimers.cancel(waiter)
    const runtime = response.meta.runtime
    this.#metrics.requestLatency[runtime].observe(response.meta.timings_ms.total)
    this.#metrics.request(200, runtime)
    this.#answered++
    this.#close1()
    waiter.sink.answer(response, waiter)
  }

  #close1(): void {
    this.#open--
    if (this.#open === 0 && this.#drained !== null) {
      const done = this.#drained
      this.#drained = null
      done()
    }
  }

  /** Last-resort answer when a handler failed (a bug): never leave a request hanging. */
  #emergency(waiter: Waiter, reason: FallbackReason): void {
    const flight = waiter.flight
    if (flight === null) {
      waiter.state = 'done'
      this.#waiterTimers.cancel(waiter)
      this.#close1()
      waiter.sink.fail(new TsfmError('TSFM_INTERNAL', 'internal error'), waiter)
      return
    }
    this.#detach(waiter)
    this.#answerFallback(waiter, flight, reason, { ok: false, values: EMPTY, warnings: 0 })
  }

  #count(reason: FallbackReason): void {
    this.#metrics.fallback(reason)
    this.#reasons.record(this.#clock.now(), reason)
  }

  #answerState(): AnswerState {
    return { breaker: this.#breaker.state, mode: this.#mode.mode.kind }
  }

  #timings(waiter: Waiter, queue: number, upstream: number): Timings {
    return { queue: round3(queue), upstream: round3(upstream), total: round3(this.#clock.now() - waiter.arrivedAt) }
  }

  // ---- periodic work ------------------------------------------------------------------

  #scheduleTick(): void {
    this.#tick = this.#clock.setTimeout(() => this.#post(TICK, null, null, null, null, 0, null), 1000, true)
  }

  #onTick(): void {
    this.#tick = null
    if (this.#closing) return
    this.#mode.evaluate()
    // Probes run in degraded mode too: with no client traffic they are the only events the
    // 10-minute recovery rule can count (SPEC §5: recover without client traffic).
    if (this.#mode.probeDue() && this.#upstream !== null) this.#sendProbe()
    this.#metrics.breakerState.set(BREAKER_VALUE[this.#breaker.state])
    this.#scheduleTick()
  }

  /** The tiny real forecast of degraded and baseline-only modes; its outcome is a mode event only. */
  #sendProbe(): void {
    const now = this.#clock.now()
    const req = probeRequest(this.#config, now, freqStepMs(this.#config.freq))
    const ticket = this.#tickets.issue(new Probe(now))
    this.#upstream?.submit(upstreamJob(req, ticket, now + this.#budgetMs, this.#mode.attemptTimeoutMs(this.#normalTimeoutMs), 0, this.#config.input_len_steps))
  }

  #onModeTransition(e: ModeTransition): void {
    this.#metrics.modeTransitions.labels(e.from, e.to).inc()
    this.#metrics.degradationMode.set(MODE_VALUE[e.to])
    this.#log.warn({ event: 'mode_transition', ...e }, `degradation mode ${e.from} -> ${e.to}`)
    for (const fn of this.#modeListeners) fn(e)
  }

  #onBreakerTransition(e: BreakerTransition): void {
    this.#metrics.breakerTransitions.labels(e.from, e.to).inc()
    this.#metrics.breakerState.set(BREAKER_VALUE[e.to])
    this.#log.warn({ event: 'breaker_transition', ...e }, `circuit breaker ${e.from} -> ${e.to}`)
    for (const fn of this.#breakerListeners) fn(e)
  }

  #stopTimers(): Promise<void> {
    this.#waiterTimers.stop()
    this.#queueTimers.stop()
    return Promise.resolve()
  }
}

const EMPTY = new Float64Array(0)

/** The baseline band a flight already computed, or null. */
function keptBand(flight: Flight): BandResult | null {
  return flight.band === null ? null : { ok: true, values: flight.band, warnings: flight.bandWarnings }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
