import type { TimerHandle } from '../../../clock/clock.js'
import { CostModel } from './cost-model.js'
import { InflightLimit, type LimitConfig } from './limiter.js'
import { HEALTHY, type ReplicaHealth } from './replica-health.js'
import type { Cancel } from '../cancel.js'
import type { PendingJob } from '../pending-job.js'

/**
 * One replica's slot in a lane (replica × model): everything that describes that upstream's
 * state for this model — its adaptive in-flight limit, its cost model, the requests it carries
 * and when it is predicted to be done with them, its health. The lane's queue is shared: a batch
 * is given to a slot only when it leaves (lane.ts `#choose`), so a slot that goes down strands
 * nothing but what it carries. With one replica the lane has one slot and behaves as before.
 */
export class Replica {
  readonly index: number
  /** The lane's name in stats and metrics: the model, or `model@host:port` with several replicas. */
  readonly name: string
  readonly limit: InflightLimit
  readonly cost: CostModel
  readonly inflight = new Set<InFlight>()
  /** When this upstream is predicted to be done with everything the lane sent it. */
  busyUntil = 0
  /** Actual ÷ predicted time of its requests, smoothed (lane.ts explains why). */
  drift = 1
  /** Its last answer: when, and how many series it carried (the hold waits for that many). */
  lastDoneAt = Number.NEGATIVE_INFINITY
  lastDoneSeries = 0
  /** The lane's arrival count at its last answer (lane.ts `#returning`). */
  arrivalsAtDone = 0
  requests = 0
  series = 0
  /** Hedges sent for its requests. */
  hedges = 0
  health: ReplicaHealth = HEALTHY
  /** The model is installed there (`/api/tags`; true while unknown). */
  serves = true
  /** The next probe while down. */
  probe: TimerHandle | null = null
  /** The latest answered requests' latencies (a ring), for the adaptive hedge delay's p95. */
  readonly #recent = new Float64Array(RECENT)
  #recentCount = 0

  /** One of several replicas of its lane (lateness counts in `backlogMs` only then). */
  readonly several: boolean

  constructor(index: number, name: string, several: boolean, limit: LimitConfig, priorFixedMs: number, priorPerSeriesMs: number) {
    this.index = index
    this.name = name
    this.several = several
    this.limit = new InflightLimit(limit)
    this.cost = new CostModel(priorFixedMs, priorPerSeriesMs)
  }

  /** May take a batch now (health permitting): a free slot under its limit; on trial, only one request. */
  get hasSlot(): boolean {
    return this.health.state === 'trial' ? this.inflight.size === 0 : this.inflight.size < this.limit.value
  }

  /** Takes traffic at all: up, or on trial. */
  get usable(): boolean {
    return this.health.state !== 'down'
  }

  /** An answered request took `ms`. */
  answered(ms: number): void {
    this.#recent[this.#recentCount % RECENT] = ms
    this.#recentCount++
  }

  /**
   * How long from `now` until it is done with what the lane sent it: the predicted backlog — or,
   * with a request past its predicted end, at least as long again as that request is late. A
   * request that overruns its prediction by d is, on the evidence, in a stall of unknown length,
   * and the longer it has lasted the longer it is likely to last (a stall's residual life grows
   * with its age); counting it as ending now made a stalled replica look idle, and batches went
   * to it one after another (measured, `make bench-lanes-hedging`: a serial replica 2 s into a
   * stall kept receiving the next batch just in time, each of which then waited out the stall).
   * Lateness counts only where there is another replica to prefer (`several`): with one, the
   * lane's predictions stay as they were tuned (a hung request there is the breaker's business,
   * and the jobs queued behind it are shed by their own timers).
   */
  backlogMs(now: number): number {
    let backlog = this.busyUntil - now
    if (this.several) for (const f of this.inflight) if (now - f.predictedEnd > backlog) backlog = now - f.predictedEnd
    return backlog > 0 ? backlog : 0
  }

  /** The p95 of the recent answered requests' latencies; NaN with fewer than 20. */
  p95(): number {
    const n = Math.min(this.#recentCount, RECENT)
    if (n < 20) return Number.NaN
    const sorted = this.#recent.slice(0, n).sort()
    return sorted[Math.min(n - 1, Math.ceil(0.95 * n) - 1)] as number
  }

  /**
   * How many requests the upstream serves at once, as far as scheduling goes (lane.ts
   * `#parallelism` explains why limit − 1).
   */
  get parallelism(): number {
    return Math.max(1, this.limit.value - 1)
  }
}

/** Latencies kept per replica for the hedge delay: enough for a p95 that moves within seconds. */
const RECENT = 64

/**
 * A hedgeable request's state (a batch with `priority: high` members, several replicas): its
 * members, its own cancel handle, the hedge's timer and, once sent, the hedge's cancel handle.
 */
export class HedgeState {
  timer: TimerHandle | null = null
  sent: Cancel | null = null
  constructor(
    readonly group: readonly PendingJob[],
    readonly own: Cancel,
  ) {}
}

/** One request in flight: what it carries and when the lane expects the upstream to be done with it. */
export class InFlight {
  constructor(
    readonly replica: Replica,
    readonly series: number,
    readonly sentAt: number,
    /** When the upstream is predicted to be done with it (updated as requests ahead of it end). */
    public predictedEnd: number,
    /** Nothing of ours was in flight on its replica when it was sent: its latency is service time. */
    readonly alone: boolean,
    /** Requests in flight on its replica, itself included, when it was sent (did the limit bind?). */
    readonly outstanding: number,
    /** Set when the request can be hedged. */
    readonly hedge: HedgeState | null,
  ) {}
}
