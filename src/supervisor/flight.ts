import type { TsfmError } from '../errors.js'
import type { LaneHealth } from './lane-health.js'
import type { FallbackReason } from '../reasons.js'
import type { ForecastRequest } from '../request/types.js'
import type { ForecastResponse } from '../response.js'
import type { RouteChoice } from './routing.js'
import type { Timed } from './timer-heap.js'

/** Where an answer goes: the embedding API's promise, an HTTP reply, a cycle slot. */
export interface AnswerSink {
  answer(response: ForecastResponse, waiter: Waiter): void
  fail(error: TsfmError, waiter: Waiter): void
}

export type WaiterState = 'waiting' | 'done'

/**
 * One client request waiting for an answer. Identical requests in flight share one Flight
 * (single-flight) but each keeps its own Waiter: its own deadline, sink and abort signal.
 * Every field is initialised here so all waiters share one hidden class.
 */
export class Waiter implements Timed {
  dueAt = 0
  heapIndex = -1
  state: WaiterState = 'waiting'
  flight: Flight | null = null
  /** Caller's context, returned untouched with the answer (e.g. the cycle index). */
  tag: number
  /** Asked for high priority (`runner.forecast(req, { priority: 'high' })`). */
  high = false
  /** The caller's request id (`X-Request-Id`, `requestId`), or null. */
  requestId: string | null = null

  constructor(
    readonly sink: AnswerSink,
    readonly arrivedAt: number,
    readonly deadline: number,
    tag: number,
  ) {
    this.tag = tag
  }
}

const DEFAULT_ROUTE: RouteChoice = Object.freeze({ selected: 'tsfm', reason: 'default', segment: null })

export type FlightState = 'new' | 'l2' | 'l2-wait' | 'queued' | 'upstream' | 'math' | 'fallback' | 'done'

/**
 * The work for one distinct request (one cache key): gates, one queue slot in its market's
 * mailbox, at most one upstream call, its post-processing, and the answer shared by its waiters.
 * The flight's timer is its queue timeout while queued.
 *
 * new ─▶ queued ─▶ upstream ─▶ math ─▶ done        (fallback: computing the baseline band;
 *  └──────┴──────────┴──────────┴──▶ fallback ─▶ done   any state can end in done)
 *
 * With L2 (cache.l2.url) a new flight first asks the shared cache (`l2`, bounded by
 * `command_timeout_ms`), and may wait for another daemon's answer (`l2-wait`, bounded by the
 * lease and its deadline) before it is started as above. The flight's timer bounds both.
 */
export class Flight implements Timed {
  dueAt = 0
  heapIndex = -1
  state: FlightState = 'new'
  readonly waiters: Waiter[] = []
  /** Outstanding message ticket (upstream job or math job), 0 when none. */
  ticket = 0
  /** Its upstream lane's health (breaker and mode; set past the gates), and the permit its call holds. */
  lane: LaneHealth | null = null
  permit: number | null = null
  /** Its first waiter asked for high priority: served first when markets wait for slots. */
  high = false
  /**
   * The request id of the waiter that started it (or of the request whose cache hit started a
   * revalidation), sent upstream with its series; null when it had none. Waiters that join
   * later share the flight's upstream request, not their own id (README "Request ids").
   */
  requestId: string | null = null
  /** In baseline-only mode: this flight is one of the `probe_every_n_requests` probes. */
  probe = false
  /** The flight has already given the mode machine its one event. */
  modeRecorded = false
  /** Holds a market slot and a global slot until its upstream outcome arrives. */
  holdsSlot = false
  enqueuedAt = 0
  dispatchedAt = 0
  queueMs = 0
  upstreamMs = 0
  route: RouteChoice = DEFAULT_ROUTE
  /** The baseline band, computed once and reused by every fallback answer of this flight. */
  band: Float64Array | null = null
  bandWarnings = 0
  /** A pending flight-wide fallback: reason + whether the answer may be cached. */
  fallbackReason: FallbackReason | null = null
  fallbackCacheable = false
  /** This daemon holds the key's L2 lease: the cluster waits for this flight's answer. */
  l2Leader = false
  /** Its L2 bound passed and it waits one event-loop turn for a reply already read (supervisor). */
  l2Overdue = false
  /** A lookup that ran past its bound and whose reply is still awaited (it may carry the lease). */
  l2Ticket = 0
  /** Its answer was written to L2 (the lease needs no release). */
  l2Stored = false

  constructor(
    readonly key: string,
    readonly req: ForecastRequest,
    /** Earliest waiter deadline at creation; the upstream job's deadline. */
    readonly deadline: number,
    /**
     * Started as a stale-while-revalidate refresh (it ends the cache entry's revalidation). Not
     * "nobody waits": a client that misses the cache while it runs joins it like any flight, and
     * then every answer path serves that client — whether anyone waits is `waiters.length`.
     */
    readonly revalidation: boolean,
  ) {}
}
