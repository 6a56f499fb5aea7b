import type { TimerHandle } from '../../../clock/clock.js'
import { CostModel } from './cost-model.js'
import { InflightLimit, type LimitConfig } from './limiter.js'
import { HEALTHY, type ReplicaHealth } from './replica-health.js'

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
  requests = 0
  series = 0
  health: ReplicaHealth = HEALTHY
  /** The model is installed there (`/api/tags`; true while unknown). */
  serves = true
  /** The next probe while down. */
  probe: TimerHandle | null = null

  constructor(index: number, name: string, limit: LimitConfig, priorFixedMs: number, priorPerSeriesMs: number) {
    this.index = index
    this.name = name
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

  /**
   * How many requests the upstream serves at once, as far as scheduling goes (lane.ts
   * `#parallelism` explains why limit − 1).
   */
  get parallelism(): number {
    return Math.max(1, this.limit.value - 1)
  }
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
  ) {}
}
