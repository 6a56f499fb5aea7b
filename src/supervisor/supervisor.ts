import { Mailbox } from '../actor/mailbox.js'
import { Tickets } from '../actor/tickets.js'
import { ForecastCache } from '../cache/forecast-cache.js'
import { cacheKey } from '../cache/key.js'
import type { L2Entry } from '../cache/l2/codec.js'
import type { L2Port, L2Result } from '../cache/l2/port.js'
import type { Clock } from '../clock/clock.js'
import type { TsfmConfig } from '../config/types.js'
import { TsfmError } from '../errors.js'
import type { LaneStats, UpstreamHealth, UpstreamOutcome, UpstreamRequestRecord } from '../io/types.js'
import type { Logger } from '../log.js'
import { BREAKER_VALUE, MODE_VALUE, type Metrics } from '../metrics/metrics.js'
import { isCallerFault, type FallbackReason, type UpstreamFailureReason } from '../reasons.js'
import { freqStepMs } from '../request/freq.js'
import type { ForecastRequest } from '../request/types.js'
import type { BreakerStateName, ForecastResponse, ModeName } from '../response.js'
import { bandToPaths, buildAnswer, reanswer, warningsFor, type AnswerState, type Timings } from './answer.js'
import type { Permit } from './breaker.js'
import { emergencyBand } from './emergency-band.js'
import { EventRelay, type Listener, type RunnerEventName, type RunnerEvents } from './events.js'
import { Flight, Waiter, type AnswerSink } from './flight.js'
import { Gates } from './gates.js'
import { baseUrlText } from '../config/base-urls.js'
import { LaneHealthTable, OVERFLOW_LANE, type LaneBreakerTransition, type LaneHealth, type LaneModeTransition } from './lane-health.js'
import { Ledger } from './ledger.js'
import { MarketTable } from './market.js'
import { TICK_MSG, type SupervisorMsg } from './messages.js'
import type { BandResult, MathPort, UpstreamPort } from './ports.js'
import { RecentIds } from './recent-ids.js'
import { RoutingPolicy } from './routing.js'
import type { ConformalStatus, RunnerState } from './state.js'
import { TimerHeap } from './timer-heap.js'
import { inputLength, probeRequest, upstreamJob } from './upstream-job.js'
import { NOT_LOADED, type ConformalChoice } from '../conformal/choice.js'
import { UpstreamTroubleLog } from './trouble-log.js'

export interface SupervisorDeps {
  readonly config: TsfmConfig
  readonly clock: Clock
  readonly metrics: Metrics
  readonly logger: Logger
  /** The math pool (or the test's inline kernels); results come back through `onMath`. */
  readonly math: MathPort
  /** The I/O actor (or the test's fake upstream); outcomes come back through `onUpstream`. */
  readonly upstream: UpstreamPort
  readonly random?: () => number
  /** The conformal state answers are adjusted with (the runner's store); none = no adjustment. */
  readonly conformal?: ConformalChooser
  /** The shared cache behind L1 (cache.l2.url); none = single node. Results come back through `onL2`. */
  readonly l2?: L2Port
}

/** Chooses the conformal adjustment of one answer (src/conformal/store.ts). */
export interface ConformalChooser {
  choose(req: ForecastRequest): ConformalChoice
  /** An answer was delivered (the online calibration remembers its band for the outcome). */
  served(req: ForecastRequest, response: ForecastResponse): void
  status(): ConformalStatus
}

const NO_CONFORMAL: ConformalChooser = Object.freeze({
  choose: (): ConformalChoice => NOT_LOADED,
  served: (): void => undefined,
  status: (): ConformalStatus => ({ state_path: null, loaded: false, updated_at: null, schema_version: null, segments: 0, loaded_at: null }),
})

export interface SubmitOptions {
  /** An absolute deadline earlier than arrival + `deadline_budget_ms` (a cycle's budget). */
  readonly deadline?: number
  /** Returned untouched on the Waiter (the cycle uses it for the request's index). */
  readonly tag?: number
  /** `high`: served before other waiting markets when upstream slots are scarce. */
  readonly priority?: 'high' | 'normal' | 'low'
  /** The caller's request id, already valid (request/request-id.ts): sent upstream with its series. */
  readonly requestId?: string | null
}

/** A periodic probe in flight (ticket owner): its outcome is an event for its lane's mode. */
class Probe {
  constructor(
    readonly startedAt: number,
    readonly lane: LaneHealth,
  ) {}
}

type TicketOwner = Flight | Probe

/** How a flight-wide fallback may be answered and kept. */
const Fallback = {
  /** The baseline band; not cached (the runtime's circumstances: mode, queue, mailbox). */
  Plain: 0,
  /** The baseline band, cached: a deterministic gate answer. */
  Cacheable: 1,
  /** A stale answer within `stale_if_error_s` if there is one, else the baseline band. */
  StaleIfError: 2,
} as const
type Fallback = (typeof Fallback)[keyof typeof Fallback]

const EMPTY = new Float64Array(0)
const NO_BAND: BandResult = Object.freeze({ ok: false, values: EMPTY, warnings: 0 })

/**
 * A waiter's deadline answer is due this much before its deadline: the timer fires late when
 * the event loop is busy, and the answers due together are built and sent one after another.
 * Measured, `make bench-degraded` (20 % hangs, up to ~20 deadline answers at once): timers at
 * the deadline itself delivered the slowest answers at 1 602–1 603 ms of a 1 600 ms deadline in
 * about one run in three (on the build before this guard too); with 5 ms, at 1 598–1 599 ms —
 * too close. An answer past the deadline is one the caller's cycle may no longer wait for.
 */
export const DEADLINE_GUARD_MS = 10

/**
 * The supervisor actor (SPEC §3–§5): owns the cache, the single-flight table, the market cells,
 * the circuit breaker and the mode machine, and decides for every request whether the upstream
 * is worth asking. Everything that reaches it — submissions, upstream outcomes, math results,
 * timers, aborts, health — is a message (messages.ts) in one mailbox processed to completion, so
 * an answer delivered to a sink that synchronously submits again never re-enters half-updated
 * state. Results of the I/O actor and the math pool carry tickets; a result whose ticket was
 * closed is dropped and counted.
 *
 * Where answers come from, each in one place:
 * - every answer reaches its caller through `#deliver`, which counts it (ledger.ts) — once;
 * - every baseline answer is built by `#baselineAnswer`;
 * - a flight that cannot be answered from the upstream goes through `#fallBack` (all its
 *   waiters, stale-if-error where allowed), a single waiter through `#fallBackWaiter` (its own
 *   deadline);
 * - a handler that throws (a bug) is caught per message and the requests it touched are answered
 *   from the emergency band (`#rescue`), so one bug cannot strand requests behind it.
 *
 * Mode and breaker transitions update metrics and logs at once, but listeners hear of them after
 * the turn (events.ts): a listener can neither throw into a handler nor see half-updated state.
 */
export class Supervisor {
  readonly #config: TsfmConfig
  readonly #clock: Clock
  readonly #metrics: Metrics
  readonly #log: Logger
  readonly #math: MathPort
  readonly #upstream: UpstreamPort
  readonly #conformal: ConformalChooser
  readonly #trouble: UpstreamTroubleLog
  readonly #l2: L2Port | null
  readonly #l2TimeoutMs: number
  readonly #leaseMs: number
  readonly #ttlMs: number
  readonly #staleMs: number
  /** Flights whose L2 lookup was issued this turn; their bound starts next turn (armL2). */
  readonly #l2Unarmed: Flight[] = []
  readonly #inbox: Mailbox<SupervisorMsg>
  readonly #cache: ForecastCache<ForecastResponse>
  readonly #flights = new Map<string, Flight>()
  readonly #tickets = new Tickets<TicketOwner>()
  readonly #markets: MarketTable
  readonly #gates: Gates
  /** Each upstream lane's (model's) breaker and mode. */
  readonly #lanes: LaneHealthTable
  readonly #waiterTimers: TimerHeap<Waiter>
  readonly #queueTimers: TimerHeap<Flight>
  readonly #ledger: Ledger
  readonly #events: EventRelay
  readonly #budgetMs: number
  readonly #queueTimeoutMs: number
  readonly #normalTimeoutMs: number
  readonly #minWidth: number
  readonly #maxWidth: number
  #health: UpstreamHealth | null = null
  /** The I/O thread's last report of its lanes. */
  #laneStats: readonly LaneStats[] = []
  #open = 0
  #closing = false
  #drained: (() => void) | null = null
  #tick: ReturnType<Clock['setTimeout']> | null = null
  #upstreamEwma = 0
  /** Failed multiplexed requests already counted once toward consecutive breaker failures. */
  readonly #failedBatches = new RecentIds(64)
  /** The flight the message being handled works on: what `#rescue` answers if the handler throws. */
  #active: Flight | null = null

  constructor(deps: SupervisorDeps) {
    const { config, clock, metrics } = deps
    this.#config = config
    this.#clock = clock
    this.#metrics = metrics
    this.#log = deps.logger
    this.#math = deps.math
    this.#upstream = deps.upstream
    this.#conformal = deps.conformal ?? NO_CONFORMAL
    this.#l2 = deps.l2 ?? null
    this.#l2TimeoutMs = config.cache.l2.command_timeout_ms
    this.#leaseMs = config.cache.l2.lease_ms
    this.#ttlMs = config.cache.ttl_s * 1000
    this.#staleMs = this.#ttlMs + config.cache.stale_while_revalidate_s * 1000
    this.#inbox = Mailbox.unbounded<SupervisorMsg>((m) => this.#handle(m))
    this.#cache = new ForecastCache<ForecastResponse>(config.cache, clock)
    // No global limit here: how much goes upstream at once is each lane's adaptive limit, in the
    // I/O thread (SPEC §3 step 8). The market table keeps one call per market.
    this.#markets = new MarketTable(config.perf.per_market_inflight_limit, Number.POSITIVE_INFINITY, config.perf.mailbox_capacity)
    this.#metrics.readQueuesFrom(this.#markets)
    this.#gates = new Gates(config, new RoutingPolicy(config.routing))
    this.#ledger = new Ledger(metrics, clock)
    this.#events = new EventRelay(this.#log)
    this.#trouble = new UpstreamTroubleLog(this.#log, clock)
    this.#lanes = new LaneHealthTable({
      breaker: config.circuit_breaker,
      degradation: config.degradation,
      clock,
      random: deps.random ?? Math.random,
      probeTimeoutMs: config.adapter.deadline_budget_ms,
      maxLanes: config.adapter.lane.max_lanes,
      onBreakerTransition: (e) => this.#onBreakerTransition(e),
      onModeTransition: (e) => this.#onModeTransition(e),
      onNew: (lane) => {
        this.#metrics.breakerStateOf(lane).set(BREAKER_VALUE.closed)
        this.#metrics.modeOf(lane).set(MODE_VALUE.normal)
      },
    })
    // The default model's lane exists from the start (its breaker and mode are `state()`'s).
    this.#lanes.of(config.adapter.model)
    this.#waiterTimers = new TimerHeap<Waiter>(clock, (waiter) => this.#post({ kind: 'waiter-due', waiter }))
    this.#queueTimers = new TimerHeap<Flight>(clock, (flight) => this.#post({ kind: 'queue-due', flight }))
    this.#budgetMs = config.adapter.deadline_budget_ms
    this.#queueTimeoutMs = config.perf.queue_timeout_ms
    this.#normalTimeoutMs = Math.round(config.adapter.timeout_s * 1000)
    this.#minWidth = config.interval_sanity.min_width
    this.#maxWidth = config.interval_sanity.max_width
    this.#scheduleTick()
  }

  // ---- entry points (each becomes a message) ------------------------------------------

  /** Ask for a forecast of a validated request; the answer goes to `sink`. */
  submit(req: ForecastRequest, sink: AnswerSink, opts?: SubmitOptions): Waiter {
    const now = this.#clock.now()
    const budgetEnd = now + this.#budgetMs
    const deadline = opts?.deadline !== undefined && opts.deadline < budgetEnd ? opts.deadline : budgetEnd
    const waiter = new Waiter(sink, now, deadline, opts?.tag ?? 0)
    waiter.high = opts?.priority === 'high'
    waiter.requestId = opts?.requestId ?? null
    if (this.#closing) {
      waiter.state = 'done'
      sink.fail(new TsfmError('TSFM_RUNNER_CLOSED', 'the runner is closing and accepts no new requests'), waiter)
      return waiter
    }
    this.#open++
    this.#post({ kind: 'submit', waiter, req })
    return waiter
  }

  /** Withdraw a waiting request (its caller left); it is answered with TSFM_ABORTED. */
  abort(waiter: Waiter): void {
    this.#post({ kind: 'abort', waiter })
  }

  /** Sink for the I/O actor's outcomes. */
  onUpstream(outcome: UpstreamOutcome): void {
    this.#post({ kind: 'outcome', outcome })
  }

  /** The I/O actor dropped an outcome that came after its deadline (counted as a late result). */
  onLateUpstream(): void {
    this.#ledger.late()
  }

  /** Sink for the I/O actor's per-request records (metrics only). */
  onUpstreamRecord(rec: UpstreamRequestRecord): void {
    this.#metrics.tollama(rec.endpoint, rec.outcome, rec.ms)
    if (rec.endpoint !== '/api/version') this.#metrics.upstreamBatchSize.observe(rec.series)
  }

  /** Sink for the math pool's results. */
  onMath(ticket: number, band: BandResult): void {
    this.#post({ kind: 'band', ticket, band })
  }

  /** Sink for the shared cache's results (src/cache/l2/port.ts). */
  onL2(ticket: number, result: L2Result): void {
    this.#post({ kind: 'l2', ticket, result })
  }

  /** The I/O actor's health probe result (drives degraded → normal recovery). */
  onHealth(health: UpstreamHealth): void {
    this.#post({ kind: 'health', health })
  }

  on<K extends RunnerEventName>(event: K, fn: Listener<RunnerEvents[K]>): void {
    this.#events.on(event, fn)
  }

  /** The breaker state of the default model's lane. */
  get breakerState(): BreakerStateName {
    return this.#defaultLane().breaker.state
  }

  /** The I/O thread's report of its lanes (limit, queue, predicted wait, cost model). */
  onLanes(lanes: readonly LaneStats[]): void {
    this.#laneStats = lanes
    this.#metrics.lanes(lanes)
  }

  /** The mode of the default model's lane. */
  get modeName(): ModeName {
    return this.#defaultLane().mode.mode.kind
  }

  /** Requests accepted and not yet answered. */
  get open(): number {
    return this.#open
  }

  /**
   * Stop accepting requests and resolve once every accepted one is answered (each is bounded by
   * its deadline, so this always ends). Refreshes nobody waits for are not waited for.
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
   * (`cycle_budget_exhausted`). Counted like every other answer.
   */
  baselineNow(req: ForecastRequest, reason: FallbackReason): ForecastResponse {
    const flight = new Flight('', req, this.#clock.now(), false)
    flight.route = this.#gates.routing.select(req)
    const band = this.#math.baselineNow(req)
    const answer = this.#baselineAnswer(flight, band, reason, { queue: 0, upstream: 0, total: 0 })
    this.#ledger.delivered(answer)
    return answer
  }

  /** Smoothed latency of successful upstream calls (ms), 0 before the first one. */
  get upstreamLatencyMs(): number {
    return this.#upstreamEwma
  }

  state(): RunnerState {
    const cache = this.#cache.stats()
    const lookups = cache.hits + cache.stale + cache.misses
    return {
      breaker: this.#defaultLane().breaker.snapshot(),
      lanes: this.#lanesState(),
      mode: this.#defaultLane().mode.snapshot(),
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
        l2: this.#l2 === null ? null : { up: this.#l2.up, key_prefix: this.#config.cache.l2.key_prefix, command_timeout_ms: this.#l2TimeoutMs, lease_ms: this.#leaseMs },
      },
      upstream: {
        base_url: baseUrlText(this.#config.adapter),
        endpoint: this.#health?.endpoint ?? '/api/forecast',
        healthy: this.#health?.ok ?? null,
        version: this.#health?.version ?? null,
        checked_at: this.#health?.checked_at ?? null,
      },
      fallbacks_last_5m: this.#ledger.fallbacksLast5m(),
      answered: this.#ledger.answered,
      withdrawn: this.#ledger.withdrawnCount,
      late_results_dropped: this.#ledger.lateDropped,
      conformal: this.#conformal.status(),
    }
  }

  // ---- the mailbox ----------------------------------------------------------------------

  #post(msg: SupervisorMsg): void {
    // Unbounded (actor/mailbox.ts): a message is never refused and never handled inline.
    this.#inbox.offer(msg)
  }

  #handle(m: SupervisorMsg): void {
    this.#active = null
    try {
      switch (m.kind) {
        case 'submit':
          return this.#onSubmit(m.waiter, m.req)
        case 'outcome':
          return this.#onOutcome(m.outcome)
        case 'band':
          return this.#onBand(m.ticket, m.band)
        case 'l2':
          return this.#onL2(m.ticket, m.result)
        case 'l2-overdue':
          return this.#onL2Overdue(m.flight)
        case 'waiter-due':
          return this.#onWaiterDue(m.waiter)
        case 'queue-due':
          return this.#onQueueDue(m.flight)
        case 'abort':
          return this.#onAbort(m.waiter)
        case 'health':
          return this.#onHealthMsg(m.health)
        case 'tick':
          return this.#onTick()
      }
    } catch (e) {
      this.#rescue(m, e)
    } finally {
      this.#active = null
    }
  }

  // ---- pipeline -------------------------------------------------------------------------

  #onSubmit(waiter: Waiter, req: ForecastRequest): void {
    const key = cacheKey(req)
    const hit = this.#cache.get(key)
    if (hit.kind !== 'miss') {
      if (hit.kind === 'fresh') this.#metrics.cacheRequests.hit.inc()
      else this.#metrics.cacheRequests.stale.inc()
      this.#deliver(waiter, reanswer(hit.value, { cacheHit: true, cacheStale: hit.kind === 'stale' }, this.#answerState(req), this.#timings(waiter, 0, 0)), req)
      if (hit.kind === 'stale' && hit.revalidate) this.#revalidate(key, req, waiter.requestId)
      return
    }
    this.#metrics.cacheRequests.miss.inc()
    const existing = this.#flights.get(key)
    if (existing !== undefined) {
      // Single-flight: also a stale-while-revalidate refresh, which this waiter now waits for.
      this.#join(existing, waiter)
      return
    }
    const flight = new Flight(key, req, waiter.deadline, false)
    flight.enqueuedAt = waiter.arrivedAt
    flight.high = waiter.high
    flight.requestId = waiter.requestId
    this.#flights.set(key, flight)
    this.#active = flight
    this.#join(flight, waiter)
    this.#lookUp(flight)
  }

  #join(flight: Flight, waiter: Waiter): void {
    waiter.flight = flight
    flight.waiters.push(waiter)
    this.#waiterTimers.schedule(waiter, waiter.deadline - DEADLINE_GUARD_MS)
  }

  /** Stale-while-revalidate: one flight nobody waits for (yet) refreshes the entry. */
  #revalidate(key: string, req: ForecastRequest, requestId: string | null): void {
    if (this.#flights.has(key)) return // already being computed; its answer refreshes the entry
    const now = this.#clock.now()
    const flight = new Flight(key, req, now + this.#budgetMs, true)
    flight.enqueuedAt = now
    // The request whose hit asked for the refresh: the upstream request is on its account.
    flight.requestId = requestId
    this.#flights.set(key, flight)
    this.#active = flight
    this.#lookUp(flight)
  }

  // ---- the shared cache (L2) --------------------------------------------------------------

  /**
   * An L1 miss asks L2 before anything else, bounded by `command_timeout_ms` (and the deadline):
   * the answer comes back as a message, and when it is late the flight is started as without L2
   * (`#onQueueDue`). While L2 is down it is not asked at all: no request pays the timeout.
   */
  #lookUp(flight: Flight): void {
    const l2 = this.#l2
    if (l2 === null) return this.#start(flight)
    if (!l2.up) {
      this.#metrics.cacheL2.skipped.inc()
      return this.#start(flight)
    }
    flight.state = 'l2'
    flight.ticket = this.#tickets.issue(flight)
    l2.lookup(flight.ticket, flight.key, flight.req.market_id)
    // The bound starts when the command is on the wire: node-redis writes what was issued in a
    // turn from a setImmediate queued before ours. A burst of requests parsed in one turn would
    // otherwise spend its own parsing time from Redis's few milliseconds.
    this.#l2Unarmed.push(flight)
    if (this.#l2Unarmed.length === 1) setImmediate(armL2, this)
  }

  /** Start the L2 bound of the lookups issued in the last turn (see #lookUp). */
  armL2(): void {
    const until = this.#clock.now() + this.#l2TimeoutMs
    const flights = this.#l2Unarmed
    for (let i = 0; i < flights.length; i++) {
      const f = flights[i] as Flight
      if (f.state === 'l2') this.#queueTimers.schedule(f, Math.min(until, f.deadline))
    }
    flights.length = 0
  }

  #onL2(ticket: number, result: L2Result): void {
    const owner = this.#tickets.take(ticket)
    if (owner === undefined || owner instanceof Probe) {
      // The flight is over. A lease taken for it is given back at once so the other daemons do
      // not wait for an answer this one will not store.
      if (result.kind === 'miss' && result.leader) this.#l2?.abandon(result.key)
      return
    }
    if (owner.l2Ticket === ticket) owner.l2Ticket = 0
    if (owner.state !== 'l2' && owner.state !== 'l2-wait') {
      // Late: the flight went on without L2 and is computing. If the lookup took the lease, the
      // flight holds it: its answer is what the other daemons wait for (giving the lease back
      // would send them all upstream for the same key).
      if (result.kind === 'miss' && result.leader) owner.l2Leader = true
      return
    }
    const flight = owner
    this.#active = flight
    flight.ticket = 0
    flight.l2Overdue = false
    this.#queueTimers.cancel(flight)
    const m = this.#metrics.cacheL2
    switch (result.kind) {
      case 'hit':
        return this.#fromL2(flight, result.entry, false)
      case 'published':
        if (result.entry === null) {
          m.gave_up.inc()
          return this.#start(flight)
        }
        return this.#fromL2(flight, result.entry, true)
      case 'miss':
        if (result.invalid) m.invalid.inc()
        else m.miss.inc()
        flight.l2Leader = result.leader
        return this.#start(flight)
      case 'leased':
        return this.#awaitPeer(flight)
      case 'error':
        m.error.inc()
        return this.#start(flight)
    }
  }

  /**
   * Another daemon holds the key's lease: wait for its publication, at most the lease and only
   * while what is left of the deadline still covers a typical upstream call of our own (the
   * rule `#queueDue` uses), so a waiter that gives up still gets an upstream answer.
   */
  #awaitPeer(flight: Flight): void {
    const now = this.#clock.now()
    const until = Math.min(now + this.#leaseMs, flight.deadline - this.#config.adapter.postprocess_budget_ms - this.#upstreamEwma)
    if (until <= now) {
      this.#metrics.cacheL2.wait_timeout.inc()
      return this.#start(flight)
    }
    this.#metrics.cacheL2.wait.inc()
    flight.state = 'l2-wait'
    flight.ticket = this.#tickets.issue(flight)
    this.#queueTimers.schedule(flight, until)
    ;(this.#l2 as L2Port).wait(flight.ticket, flight.key, flight.req.market_id)
  }

  /** The flight's L2 bound passed one turn ago (see #onQueueDue). */
  l2Overdue(flight: Flight): void {
    this.#post({ kind: 'l2-overdue', flight })
  }

  /** The L2 lookup or wait ran out of time (and no reply came in the turn after): go on as without L2. */
  #onL2Overdue(flight: Flight): void {
    if (!flight.l2Overdue || (flight.state !== 'l2' && flight.state !== 'l2-wait')) return
    this.#active = flight
    const l2 = this.#l2 as L2Port
    if (flight.state === 'l2') {
      this.#metrics.cacheL2.timeout.inc()
      l2.timedOut()
      // Its reply is still awaited (until the flight ends): it may say this daemon took the lease.
      flight.l2Ticket = flight.ticket
    } else {
      this.#metrics.cacheL2.wait_timeout.inc()
      l2.unwait(flight.ticket, flight.key)
      this.#tickets.cancel(flight.ticket)
    }
    flight.ticket = 0
    flight.l2Overdue = false
    this.#start(flight)
  }

  /**
   * An answer some daemon stored: kept in L1 with its own age and served like an L1 hit. Past its
   * TTL but within stale-while-revalidate it is served stale and this flight goes on as the
   * refresh; older (clocks apart), it is not served and the flight computes.
   */
  #fromL2(flight: Flight, entry: L2Entry, shared: boolean): void {
    const age = this.#clock.now() - entry.storedAt
    if (age > this.#staleMs) {
      this.#metrics.cacheL2.miss.inc()
      return this.#start(flight)
    }
    const stale = age > this.#ttlMs
    const m = this.#metrics.cacheL2
    if (shared) m.shared.inc()
    else if (stale) m.stale.inc()
    else m.hit.inc()
    this.#cache.setAt(flight.key, entry.value, entry.storedAt)
    const waiters = flight.waiters
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i] as Waiter
      if (w.state !== 'waiting') continue
      this.#deliver(w, reanswer(entry.value, { cacheHit: true, cacheStale: stale }, this.#answerState(flight.req), this.#timings(w, 0, 0)), flight.req)
    }
    if (!stale) return this.#finish(flight)
    // Every waiter is answered; the flight goes on for nobody, as a stale-while-revalidate refresh.
    waiters.length = 0
    this.#start(flight)
  }

  /** A cacheable answer: L1, and L2 for the other daemons (which may be waiting for it). */
  #keep(flight: Flight, answer: ForecastResponse): void {
    const now = this.#clock.now()
    this.#cache.setAt(flight.key, answer, now)
    if (this.#l2 === null) return
    this.#l2.store(flight.key, answer, now)
    flight.l2Stored = true
  }

  #start(flight: Flight): void {
    const verdict = this.#gates.check(flight.req)
    flight.route = verdict.route
    if (verdict.reason !== null) return this.#fallBack(flight, verdict.reason, Fallback.Cacheable)
    const lane = this.#lanes.of(flight.req.model.model_name)
    flight.lane = lane
    if (lane.mode.mode.kind === 'baseline-only') {
      if (!lane.mode.shouldProbe()) return this.#fallBack(flight, 'degradation_baseline_only', Fallback.Plain)
      flight.probe = true
    }
    if (lane.breaker.state === 'open') return this.#refused(flight)
    const admitted = this.#markets.admit(flight)
    if (admitted === 'full') return this.#fallBack(flight, 'mailbox_full', Fallback.Plain)
    if (admitted === 'dispatch') {
      this.#markets.take(flight)
      this.#dispatch(flight)
      return
    }
    this.#queueTimers.schedule(flight, this.#queueDue(flight))
  }

  /** The breaker refused: a failure for the mode machine; stale-if-error or `circuit_breaker_open`. */
  #refused(flight: Flight): void {
    this.#recordMode(flight, false)
    this.#fallBack(flight, 'circuit_breaker_open', Fallback.StaleIfError)
  }

  /** `flight` holds its market and global slots: acquire the breaker and send it upstream. */
  #dispatch(flight: Flight): void {
    const now = this.#clock.now()
    flight.queueMs = now - flight.enqueuedAt
    this.#metrics.queueWait.observe(flight.queueMs)
    const lane = flight.lane as LaneHealth
    const permit = lane.breaker.tryAcquire()
    if (permit === null) {
      this.#markets.release(flight)
      this.#refused(flight)
      return
    }
    flight.permit = permit
    lane.outstanding++
    flight.state = 'upstream'
    flight.dispatchedAt = now
    flight.ticket = this.#tickets.issue(flight)
    const job = upstreamJob(
      flight.req,
      flight.ticket,
      flight.deadline,
      lane.mode.attemptTimeoutMs(this.#normalTimeoutMs),
      lane.mode.maxRetries(this.#config.adapter.retry_count),
      this.#config.input_len_steps,
      flight.high,
      flight.requestId,
    )
    this.#upstream.submit(job)
  }

  /** Hand out freed slots to queued flights, FIFO over markets. */
  #pump(): void {
    let flight: Flight | undefined
    while ((flight = this.#markets.next()) !== undefined) {
      this.#queueTimers.cancel(flight)
      this.#active = flight
      this.#dispatch(flight)
    }
  }

  /**
   * Shed by the queue timeout: answered at once from the baseline. Not an event for the mode
   * machine (SPEC §5): waiting for a slot says how much traffic there is, not how the upstream is.
   */
  #onQueueDue(flight: Flight): void {
    if (flight.state === 'l2' || flight.state === 'l2-wait') {
      this.#active = flight
      // Timers run before socket reads in an event-loop turn: after a burst of work on this
      // thread the reply may already be waiting to be read. One more turn (setImmediate runs
      // after the reads) lets it in, so a timeout means Redis was late, not this thread. Without
      // this, 600 requests arriving at once at 3 daemons timed out 113–151 lookups per daemon
      // and computed 600 series instead of 200 (test/integration/l2/cluster.test.ts).
      flight.l2Overdue = true
      setImmediate(postDue, this, flight)
      return
    }
    if (flight.state !== 'queued') return
    this.#active = flight
    this.#markets.unqueue(flight)
    this.#fallBack(flight, 'queue_timeout', Fallback.Plain)
  }

  #onOutcome(outcome: UpstreamOutcome): void {
    const owner = this.#tickets.take(outcome.ticket)
    if (owner === undefined) {
      this.#ledger.late()
      return
    }
    if (owner instanceof Probe) {
      if (outcome.ok || !isNeutral(outcome.reason)) owner.lane.mode.record(outcome.ok ? 'success' : 'failure', owner.startedAt)
      return
    }
    const flight = owner
    this.#active = flight
    flight.ticket = 0
    this.#markets.release(flight)
    flight.upstreamMs = outcome.upstream_ms
    const permit = flight.permit as Permit
    const lane = flight.lane as LaneHealth
    const breaker = lane.breaker
    flight.permit = null
    lane.outstanding--
    if (!outcome.ok && outcome.reason === 'withdrawn') {
      // Taken back from its lane unsent (#detach asked): no verdict on anything. A client that
      // joined meanwhile gets the flight started again.
      breaker.release(permit)
      if (flight.waiters.length > 0) this.#start(flight)
      else this.#finish(flight)
      this.#pump()
      return
    }
    if (outcome.ok) {
      this.#upstreamEwma = this.#upstreamEwma === 0 ? outcome.upstream_ms : 0.8 * this.#upstreamEwma + 0.2 * outcome.upstream_ms
      breaker.success(permit)
      this.#trouble.ok(lane.name)
      this.#recordMode(flight, true)
      flight.state = 'math'
      flight.ticket = this.#tickets.issue(flight)
      this.#math.postprocess(flight.ticket, flight.req, outcome.values)
    } else {
      const reason = outcome.reason as Exclude<UpstreamFailureReason, 'withdrawn'>
      // Per failed request, so debug only: the caller's id with the upstream request's.
      if (this.#log.isLevelEnabled('debug')) {
        this.#log.debug(
          { event: 'upstream_failed', lane: lane.name, reason, market_id: flight.req.market_id, req_id: flight.requestId, upstream_request_id: outcome.upstream_request_id },
          'upstream forecast failed; answering from the fallback',
        )
      }
      if (isCallerFault(reason)) {
        // The caller's own mistake (a model tollama does not have, a request it refuses): no
        // verdict on the upstream, for the breaker or the mode machine.
        breaker.release(permit)
      } else if (reason === 'queue_timeout') {
        // Shed by its lane because the offered load exceeds what the upstream can serve in time
        // (SPEC §3 step 8, §5): a verdict on the traffic, not on the upstream's health.
        breaker.release(permit)
        this.#metrics.laneShed(lane.name)
      } else if (reason === 'deadline_exceeded') {
        // This job's own deadline passed while its request went on for others (a multiplexed
        // request is timed by its longest member): the request's verdict comes with the members
        // still waiting for it. The client did miss its upstream answer: a mode event.
        breaker.release(permit)
        this.#recordMode(flight, false)
      } else {
        // Count one failed multiplexed request once toward the breaker's consecutive failures
        // (each member still counts in its rate window). Its members may fail at different
        // times (each keeps its own retry allowance), so the request is remembered by id, not
        // only as the last one seen.
        const sameRequest = outcome.batch_id !== 0 && !this.#failedBatches.add(outcome.batch_id)
        breaker.failure(permit, sameRequest)
        this.#trouble.failed(lane.name, reason, outcome.upstream_request_id)
        this.#recordMode(flight, false)
      }
      this.#fallBack(flight, reason, Fallback.StaleIfError)
    }
    this.#pump()
  }

  #onBand(ticket: number, band: BandResult): void {
    const owner = this.#tickets.take(ticket)
    if (owner === undefined || owner instanceof Probe) {
      this.#ledger.late()
      return
    }
    const flight = owner
    this.#active = flight
    flight.ticket = 0
    if (flight.state === 'fallback') return this.#answerFallback(flight, band)
    if (flight.state !== 'math') return
    if (!band.ok) return this.#fallBack(flight, 'upstream_invalid_payload', Fallback.StaleIfError)
    const answer = buildAnswer(
      flight.req,
      bandToPaths(band.values, flight.req.quantiles, flight.req.horizon_steps),
      { runtime: 'tollama', reason: null, warnings: warningsFor(band.warnings, null), route: flight.route, cacheHit: false, cacheStale: false },
      this.#answerState(flight.req),
      { queue: flight.queueMs, upstream: flight.upstreamMs, total: 0 },
      inputLength(flight.req, this.#config),
    )
    this.#keep(flight, answer)
    this.#answerAll(flight, answer)
    this.#finish(flight)
  }

  /**
   * The one path for a flight that will not be answered from the upstream: every waiter gets
   * a stale answer within `stale_if_error_s` (when `how` allows it) or the baseline band.
   */
  #fallBack(flight: Flight, reason: FallbackReason, how: Fallback): void {
    if (how === Fallback.StaleIfError) {
      const stale = this.#cache.getStaleIfError(flight.key)
      if (stale !== undefined) {
        const waiters = flight.waiters
        for (let i = 0; i < waiters.length; i++) {
          const w = waiters[i] as Waiter
          if (w.state !== 'waiting') continue
          this.#deliver(w, reanswer(stale, { cacheHit: true, cacheStale: true, reason: 'stale_if_error' }, this.#answerState(flight.req), this.#timings(w, flight.queueMs, flight.upstreamMs)), flight.req)
        }
        return this.#finish(flight)
      }
    }
    flight.state = 'fallback'
    flight.fallbackReason = reason
    flight.fallbackCacheable = how === Fallback.Cacheable
    // Nobody to answer and nothing to keep (a refresh that failed): no band to compute.
    if (flight.waiters.length === 0 && !flight.fallbackCacheable) return this.#finish(flight)
    const now = keptBand(flight) ?? this.#math.tryBaseline(flight.req)
    if (now !== null) return this.#answerFallback(flight, now)
    flight.ticket = this.#tickets.issue(flight)
    this.#math.baseline(flight.ticket, flight.req)
  }

  /** The flight-wide fallback's band is here: answer every waiter, keep it if cacheable. */
  #answerFallback(flight: Flight, band: BandResult): void {
    const answer = this.#baselineAnswer(flight, band, flight.fallbackReason as FallbackReason, { queue: flight.queueMs, upstream: flight.upstreamMs, total: 0 })
    if (flight.fallbackCacheable && band.ok) this.#keep(flight, answer)
    this.#answerAll(flight, answer)
    this.#finish(flight)
  }

  /**
   * Every baseline answer is built here (`baseline_error` with the emergency band when the
   * baseline itself failed); the flight keeps its band for any later fallback of the same flight.
   */
  #baselineAnswer(flight: Flight, band: BandResult, reason: FallbackReason, timings: Timings): ForecastResponse {
    if (band.ok && flight.band === null) {
      flight.band = band.values
      flight.bandWarnings = band.warnings
    }
    const values = band.ok ? band.values : emergencyBand(flight.req, this.#minWidth, this.#maxWidth)
    const said = band.ok ? reason : 'baseline_error'
    return buildAnswer(
      flight.req,
      bandToPaths(values, flight.req.quantiles, flight.req.horizon_steps),
      { runtime: 'baseline', reason: said, warnings: warningsFor(band.ok ? band.warnings : 0, said), route: flight.route, cacheHit: false, cacheStale: false },
      this.#answerState(flight.req),
      timings,
      inputLength(flight.req, this.#config),
    )
  }

  #answerAll(flight: Flight, answer: ForecastResponse): void {
    const waiters = flight.waiters
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i] as Waiter
      if (w.state !== 'waiting') continue
      this.#deliver(w, reanswer(answer, { cacheHit: false, cacheStale: false }, this.#answerState(flight.req), this.#timings(w, flight.queueMs, flight.upstreamMs)), flight.req)
    }
  }

  #onWaiterDue(waiter: Waiter): void {
    if (waiter.state !== 'waiting') return
    const flight = waiter.flight as Flight
    this.#active = flight
    if (flight.state === 'upstream') this.#recordMode(flight, false)
    this.#detach(waiter)
    this.#fallBackWaiter(waiter, flight, 'deadline_exceeded')
  }

  /**
   * Answer one waiter from the baseline with its own reason (the flight may go on). The band is
   * computed here, synchronously (a few µs), because a deadline answer is due now and must not
   * wait behind a math batch; it is kept on the flight for any later fallback of the same flight.
   */
  #fallBackWaiter(waiter: Waiter, flight: Flight, reason: FallbackReason): void {
    const band = keptBand(flight) ?? this.#math.baselineNow(flight.req)
    const upstreamMs = flight.state === 'upstream' ? this.#clock.now() - flight.dispatchedAt : flight.upstreamMs
    this.#deliver(waiter, this.#baselineAnswer(flight, band, reason, this.#timings(waiter, flight.queueMs, upstreamMs)), flight.req)
  }

  #onAbort(waiter: Waiter): void {
    if (waiter.state !== 'waiting') return
    this.#active = waiter.flight
    this.#detach(waiter)
    this.#ledger.withdrawn()
    this.#settle(waiter)
    this.#failSink(waiter, new TsfmError('TSFM_ABORTED', 'the request was aborted by its caller'))
  }

  #onHealthMsg(health: UpstreamHealth): void {
    this.#trouble.health(health.ok, this.#health?.ok ?? null, baseUrlText(this.#config.adapter))
    this.#metrics.upstreamHealthy(baseUrlText(this.#config.adapter), health.ok)
    this.#health = health
    for (const lane of this.#lanes.values()) lane.mode.setHealth(health.ok)
  }

  /**
   * Take a waiter out of its flight. A queued flight nobody waits for any more is dropped: no
   * upstream work for nobody. A flight already upstream goes on (its answer fills the cache,
   * and the next request for it — often the same client retrying — is a hit).
   */
  #detach(waiter: Waiter): void {
    const flight = waiter.flight
    if (flight === null) return
    const i = flight.waiters.indexOf(waiter)
    if (i >= 0) flight.waiters.splice(i, 1)
    if (flight.waiters.length > 0 || flight.revalidation) return
    if (flight.state === 'l2' || flight.state === 'l2-wait') {
      // Nobody waits any more: no lookup result or peer answer is needed (a lease the lookup
      // takes meanwhile is given back when its result comes, #onL2).
      this.#queueTimers.cancel(flight)
      this.#finish(flight)
    } else if (flight.state === 'queued') {
      this.#queueTimers.cancel(flight)
      this.#markets.unqueue(flight)
      this.#finish(flight)
    } else if (flight.state === 'upstream' && flight.ticket !== 0) {
      // Possibly still waiting in its lane (I/O thread): take it back if so.
      this.#upstream.cancel(flight.ticket)
    }
  }

  /** The flight is over: its result, if one is still coming, will be dropped as late. */
  #finish(flight: Flight): void {
    if (flight.state === 'l2-wait') this.#l2?.unwait(flight.ticket, flight.key)
    flight.state = 'done'
    // The cluster waits for a lease holder's answer: one that stores none says so at once.
    if (flight.l2Leader && !flight.l2Stored) this.#l2?.abandon(flight.key)
    if (flight.ticket !== 0) {
      this.#tickets.cancel(flight.ticket)
      flight.ticket = 0
    }
    if (flight.l2Ticket !== 0) {
      this.#tickets.cancel(flight.l2Ticket)
      flight.l2Ticket = 0
    }
    if (this.#flights.get(flight.key) === flight) this.#flights.delete(flight.key)
    if (flight.revalidation) this.#cache.endRevalidate(flight.key)
  }

  /** The flight's one event for its lane's mode machine (SPEC §5 "failure share"). */
  #recordMode(flight: Flight, ok: boolean): void {
    if (flight.modeRecorded || flight.lane === null) return
    flight.modeRecorded = true
    flight.lane.mode.record(ok ? 'success' : 'failure', flight.enqueuedAt)
  }

  /** Every answer reaches its caller here, and is counted here (ledger.ts) — once. */
  #deliver(waiter: Waiter, response: ForecastResponse, req: ForecastRequest): void {
    this.#settle(waiter)
    this.#ledger.delivered(response)
    try {
      waiter.sink.answer(response, waiter)
    } catch (e) {
      // The host's sink failed (a bug of its own): that caller loses its answer, nobody else.
      this.#log.error({ err: e }, 'an answer sink threw')
    }
    // After the answer is out: remembering its band for the outcome to come can never cost a
    // caller its answer.
    try {
      this.#conformal.served(req, response)
    } catch (e) {
      this.#log.error({ err: e }, 'recording a served band for conformal calibration failed')
    }
  }

  #failSink(waiter: Waiter, error: TsfmError): void {
    try {
      waiter.sink.fail(error, waiter)
    } catch (e) {
      this.#log.error({ err: e }, 'an answer sink threw')
    }
  }

  /** The waiter is answered (or withdrawn): no timer, and one request fewer open. */
  #settle(waiter: Waiter): void {
    waiter.state = 'done'
    this.#waiterTimers.cancel(waiter)
    this.#open--
    if (this.#open === 0 && this.#drained !== null) {
      const done = this.#drained
      this.#drained = null
      done()
    }
  }

  /**
   * A handler threw (a bug). The error is logged, and everything the message touched is put in
   * a consistent end state: its flight gives back its slots and permit and every waiter of it is
   * answered from the emergency band (`baseline_error`); the message's own waiter likewise.
   * Nothing is left half-done for a later identical request to join.
   */
  #rescue(m: SupervisorMsg, err: unknown): void {
    this.#log.error({ err, kind: m.kind }, 'supervisor message handler failed; answering the requests it touched from the baseline')
    const waiter = m.kind === 'submit' || m.kind === 'waiter-due' || m.kind === 'abort' ? m.waiter : null
    const flight = this.#active ?? (m.kind === 'queue-due' || m.kind === 'l2-overdue' ? m.flight : (waiter?.flight ?? null))
    try {
      if (flight !== null && flight.state !== 'done') this.#abandon(flight)
      if (waiter !== null && waiter.state === 'waiting') this.#emergency(waiter, flight)
      this.#pump()
    } catch (e) {
      this.#log.error({ err: e }, 'supervisor rescue failed')
    }
  }

  #abandon(flight: Flight): void {
    if (flight.state === 'l2' || flight.state === 'l2-wait') this.#queueTimers.cancel(flight)
    if (flight.state === 'queued') {
      this.#queueTimers.cancel(flight)
      this.#markets.unqueue(flight)
    }
    this.#markets.release(flight)
    if (flight.permit !== null && flight.lane !== null) {
      flight.lane.breaker.release(flight.permit as Permit)
      flight.lane.outstanding--
      flight.permit = null
    }
    this.#finish(flight)
    const waiters = flight.waiters.slice()
    for (const w of waiters) if (w.state === 'waiting') this.#emergency(w, flight)
  }

  /** The last-resort answer: the emergency band, or TSFM_INTERNAL if even that cannot be built. */
  #emergency(waiter: Waiter, flight: Flight | null): void {
    try {
      if (flight !== null) {
        this.#deliver(waiter, this.#baselineAnswer(flight, NO_BAND, 'baseline_error', this.#timings(waiter, flight.queueMs, flight.upstreamMs)), flight.req)
        return
      }
    } catch (e) {
      this.#log.error({ err: e }, 'emergency answer failed')
    }
    if (waiter.state !== 'waiting') return
    this.#settle(waiter)
    this.#failSink(waiter, new TsfmError('TSFM_INTERNAL', 'internal error'))
  }

  #answerState(req: ForecastRequest): AnswerState {
    const model = req.model.model_name
    return { breaker: this.#lanes.breakerStateOf(model), mode: this.#lanes.modeOf(model), conformal: this.#conformal.choose(req) }
  }

  #timings(waiter: Waiter, queue: number, upstream: number): Timings {
    return { queue: round3(queue), upstream: round3(upstream), total: round3(this.#clock.now() - waiter.arrivedAt) }
  }

  // ---- periodic work ------------------------------------------------------------------

  #scheduleTick(): void {
    this.#tick = this.#clock.setTimeout(() => this.#post(TICK_MSG), 1000, true)
  }

  #onTick(): void {
    this.#tick = null
    if (this.#closing) return
    this.#scheduleTick()
    for (const lane of this.#lanes.values()) {
      lane.mode.evaluate()
      // Probes run in degraded mode too: with no client traffic they are the only events the
      // 10-minute recovery rule can count (SPEC §5: recover without client traffic). The
      // overflow lane has no model of its own to probe; its clients' 1-in-N probes serve.
      if (lane.name !== OVERFLOW_LANE && lane.mode.probeDue()) this.#sendProbe(lane)
      this.#metrics.breakerStateOf(lane.name).set(BREAKER_VALUE[lane.breaker.state])
    }
  }

  /** The tiny real forecast of a lane in degraded or baseline-only mode; its outcome is a mode event only. */
  #sendProbe(lane: LaneHealth): void {
    const now = this.#clock.now()
    const req = probeRequest(this.#config, now, freqStepMs(this.#config.freq), lane.name)
    const ticket = this.#tickets.issue(new Probe(now, lane))
    // High priority: one tiny series that decides the mode must not wait behind a queue.
    this.#upstream.submit(upstreamJob(req, ticket, now + this.#budgetMs, lane.mode.attemptTimeoutMs(this.#normalTimeoutMs), 0, this.#config.input_len_steps, true, null))
  }

  #onModeTransition(e: LaneModeTransition): void {
    this.#metrics.modeTransitions.labels(e.from, e.to, e.lane).inc()
    this.#metrics.modeOf(e.lane).set(MODE_VALUE[e.to])
    this.#log.warn({ event: 'mode_transition', ...e }, `degradation mode of lane ${e.lane}: ${e.from} -> ${e.to}`)
    this.#events.emit('mode', e)
  }

  #onBreakerTransition(e: LaneBreakerTransition): void {
    this.#metrics.breakerTransitions.labels(e.from, e.to, e.lane).inc()
    this.#metrics.breakerStateOf(e.lane).set(BREAKER_VALUE[e.to])
    // The failure class behind an opening (what an operator acts on), besides the breaker's rule.
    const cause = e.to === 'open' ? this.#trouble.reasonOf(e.lane) : null
    const upstreamRequestId = e.to === 'open' ? this.#trouble.requestIdOf(e.lane) : null
    this.#log.warn({ event: 'breaker_transition', ...e, cause, upstream_request_id: upstreamRequestId }, `circuit breaker of lane ${e.lane}: ${e.from} -> ${e.to} (${e.reason}${cause === null ? '' : `; upstream failing: ${cause}`})`)
    this.#events.emit('breaker', e)
  }

  #defaultLane(): LaneHealth {
    return this.#lanes.of(this.#config.adapter.model)
  }

  /**
   * When a flight waiting for its market's slot gives up (`queue_timeout`): with the `fixed`
   * policy after `queue_timeout_ms`; with `predicted`, when what is left of its deadline no longer
   * covers a typical upstream call (smoothed latency) and the post-processing reserve.
   */
  #queueDue(flight: Flight): number {
    if (this.#config.perf.queue_policy === 'fixed') return this.#clock.now() + this.#queueTimeoutMs
    return flight.deadline - this.#config.adapter.postprocess_budget_ms - this.#upstreamEwma
  }

  #lanesState(): RunnerState['lanes'] {
    const out: Record<string, RunnerState['lanes'][string]> = {}
    for (const [lane, h] of Object.entries(this.#lanes.snapshots())) out[lane] = { breaker: h.breaker, mode: h.mode, io: null }
    for (const stats of this.#laneStats) {
      const entry = out[stats.lane]
      out[stats.lane] = { breaker: entry?.breaker ?? null, mode: entry?.mode ?? null, io: stats }
    }
    return out
  }

  #stopTimers(): Promise<void> {
    this.#waiterTimers.stop()
    this.#queueTimers.stop()
    return Promise.resolve()
  }
}

/** Outcomes that say nothing about the upstream's health for the mode machine's probes. */
function isNeutral(reason: UpstreamFailureReason): boolean {
  return isCallerFault(reason) || reason === 'deadline_exceeded' || reason === 'queue_timeout' || reason === 'withdrawn'
}

/** The baseline band a flight already computed, or null. */
function keptBand(flight: Flight): BandResult | null {
  return flight.band === null ? null : { ok: true, values: flight.band, warnings: flight.bandWarnings }
}

/** setImmediate's callbacks: no closure per flight. */
function armL2(sup: Supervisor): void {
  sup.armL2()
}

function postDue(sup: Supervisor, flight: Flight): void {
  sup.l2Overdue(flight)
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
