import type { Clock, TimerHandle } from '../../../clock/clock.js'
import type { PendingJob } from '../pending-job.js'
import { CostModel } from './cost-model.js'
import { InflightLimit, type LimitConfig } from './limiter.js'
import { JobQueue } from './job-queue.js'

/**
 * One upstream lane (SPEC §3 step 8, §7): the jobs for one model on one upstream, which tollama
 * serves one request at a time. Jobs wait here, not inside tollama:
 *
 * - **Self-clocking batches** (group commit; Triton's dynamic batcher is the same idea): whenever
 *   the lane has a free in-flight slot, every queued job of the head job's batching key goes as
 *   one request, up to `maxSeries`. While the upstream is busy, jobs pile up and the next batch is
 *   full; an idle lane sends at once. One short hold: right after a request of n series answered,
 *   a freed slot waits up to `windowMs` for up to n jobs to arrive — the callers just answered
 *   (closed-loop clients, a cycle's next markets) are about to send again, and without the wait
 *   the first of them would go alone and split every later batch in two.
 * - **An adaptive in-flight limit** in requests (limiter.ts), so the upstream's own queue stays
 *   short whatever its speed.
 * - **Deadline-aware admission**: a job waits while its predicted completion — the work already
 *   sent (`busyUntil`), the full batches ahead of it and its own, each costed by the lane's
 *   measured `fixed + perSeries × n` (cost-model.ts) — fits its deadline minus the
 *   post-processing reserve. When it no longer fits it is shed at once (`queue_timeout`), so
 *   overload is answered early, never by waiting out the budget. The prediction assumes the
 *   upstream serves one request at a time, as tollama does per model family; an upstream that is
 *   faster than that only makes it pessimistic. Policy `fixed` sheds after `queueTimeoutMs` in
 *   the queue instead (the blueprint's letter).
 */

export type QueuePolicy = 'predicted' | 'fixed'

export interface LaneOptions {
  readonly name: string
  readonly clock: Clock
  readonly maxSeries: number
  readonly windowMs: number
  /** Kept free before each deadline for post-processing (`postprocess_budget_ms`). */
  readonly reserveMs: number
  readonly policy: QueuePolicy
  readonly queueTimeoutMs: number
  readonly limit: LimitConfig
  readonly priorFixedMs: number
  readonly priorPerSeriesMs: number
  /**
   * Runs one batch through its attempts; resolves when every member is settled. `release` may be
   * called earlier, when the batch stops occupying the upstream (a retry backoff): its slot is
   * free from then on, and its retry goes outside the limit.
   */
  readonly send: (group: PendingJob[], observe: AttemptObserver, release: () => void) => Promise<void>
  /** Settles a job shed from the queue (`queue_timeout`). */
  readonly shed: (p: PendingJob) => void
}

/** How one HTTP attempt of a batch ended, for the limiter and the cost model. */
export type AttemptVerdict = 'ok' | 'drop' | 'neutral'
export type AttemptObserver = (series: number, attempt: number, ms: number, verdict: AttemptVerdict) => void

/** What `/tsfm/state` and the metrics show of a lane. */
export interface LaneSnapshot {
  readonly lane: string
  readonly limit: number
  readonly inflight: number
  readonly queued: number
  /** Predicted wait of a job arriving now, before its own request starts (ms). */
  readonly predicted_wait_ms: number
  readonly shed: number
  readonly requests: number
  readonly series: number
  readonly cost_fixed_ms: number
  readonly cost_per_series_ms: number
}

/** One request in flight: what it carries and when the lane expects the upstream to be done with it. */
class InFlight {
  constructor(
    readonly series: number,
    readonly sentAt: number,
    readonly predictedEnd: number,
    /** Nothing of ours was in flight when it was sent: its latency is service time. */
    readonly alone: boolean,
  ) {}
}

export class Lane {
  readonly name: string
  readonly #o: LaneOptions
  readonly #clock: Clock
  readonly #queue = new JobQueue()
  readonly #limit: InflightLimit
  readonly #cost: CostModel
  readonly #inflight = new Set<InFlight>()
  /** When the upstream is predicted to be done with everything this lane sent. */
  #busyUntil = 0
  /** The last answer: when, and how many series it carried (the hold waits for that many). */
  #lastDoneAt = Number.NEGATIVE_INFINITY
  #lastDoneSeries = 0
  #holdTimer: TimerHandle | null = null
  #shedTimer: TimerHandle | null = null
  #shedTimerAt = Number.POSITIVE_INFINITY
  #shed = 0
  #requests = 0
  #series = 0
  #closing = false
  readonly #onHold = (): void => {
    this.#holdTimer = null
    this.pump()
  }
  readonly #onShedTimer = (): void => {
    this.#shedTimer = null
    this.#shedTimerAt = Number.POSITIVE_INFINITY
    // Whatever reached its last chance goes now, whatever the predictions say (they assume the
    // upstream answers on time; this timer is for when it does not).
    const now = this.#clock.now()
    const due: PendingJob[] = []
    this.#queue.forEach((p) => {
      if (this.#lastChance(p) <= now) due.push(p)
    })
    for (const p of due) this.#shedQueued(p)
    this.#reassess()
    this.pump()
  }

  constructor(opts: LaneOptions) {
    this.name = opts.name
    this.#o = opts
    this.#clock = opts.clock
    this.#limit = new InflightLimit(opts.limit)
    this.#cost = new CostModel(opts.priorFixedMs, opts.priorPerSeriesMs)
  }

  get queued(): number {
    return this.#queue.size
  }

  get inflight(): number {
    return this.#inflight.size
  }

  get limit(): number {
    return this.#limit.value
  }

  get cost(): CostModel {
    return this.#cost
  }

  /** Nothing queued and nothing in flight. */
  get idle(): boolean {
    return this.#queue.size === 0 && this.#inflight.size === 0
  }

  /**
   * Admit a job: shed at once if it cannot finish in time, else queue it. The caller pumps once
   * after a message's jobs are all enqueued (jobs of one turn form one batch).
   */
  enqueue(p: PendingJob): void {
    const now = this.#clock.now()
    if (this.#o.policy === 'predicted') {
      // Its place: behind every queued job of its class (and every high one, if it is normal).
      const ahead = p.job.high ? this.#queue.sizeHigh : this.#queue.size
      if (this.#predictedDone(ahead, now) > p.job.deadline - this.#o.reserveMs) return this.#shedNow(p)
    }
    this.#queue.push(p)
    // A high job goes ahead of queued normal ones: their predictions got worse.
    if (p.job.high && this.#o.policy === 'predicted' && this.#queue.size > this.#queue.sizeHigh) this.#reassess()
    this.#armShedTimer(p, now)
  }

  /** Send batches while slots are free (see the file comment for the hold after an answer). */
  pump(): void {
    const now = this.#clock.now()
    while (this.#inflight.size < this.#limit.value && this.#queue.size > 0) {
      if (this.#holding(now)) return
      const head = this.#queue.peek() as PendingJob
      const group = this.#queue.take(head.key, this.#o.maxSeries)
      const fitting = this.#o.policy === 'predicted' ? this.#dropLate(group, now) : group
      if (fitting.length > 0) this.#dispatch(fitting, now)
    }
  }

  /** Closing: whatever is queued goes now, in batches, whatever the limit. */
  flushAll(): void {
    this.#closing = true
    if (this.#holdTimer !== null) this.#clock.clearTimeout(this.#holdTimer)
    this.#holdTimer = null
    const now = this.#clock.now()
    while (this.#queue.size > 0) {
      const head = this.#queue.peek() as PendingJob
      this.#dispatch(this.#queue.take(head.key, this.#o.maxSeries), now)
    }
  }

  /** Its requester no longer waits: `p` leaves the queue unsent (the engine answers it). */
  withdraw(p: PendingJob): void {
    if (p.state !== 'queued') return
    p.state = 'settled'
    this.#queue.removed(p)
  }

  /** Every job still queued, removed (the engine settles them). */
  takeAll(): PendingJob[] {
    this.#stopTimers()
    return this.#queue.takeAll()
  }

  snapshot(): LaneSnapshot {
    const now = this.#clock.now()
    return {
      lane: this.name,
      limit: this.#limit.value,
      inflight: this.#inflight.size,
      queued: this.#queue.size,
      predicted_wait_ms: round1(this.#predictedStart(this.#queue.size, now) - now),
      shed: this.#shed,
      requests: this.#requests,
      series: this.#series,
      cost_fixed_ms: round1(this.#cost.fixedMs),
      cost_per_series_ms: round1(this.#cost.perSeriesMs * 100) / 100,
    }
  }

  // ---- internals ----------------------------------------------------------------------

  #holding(now: number): boolean {
    if (this.#closing || this.#o.windowMs <= 0) return false
    const until = this.#lastDoneAt + this.#o.windowMs
    if (now >= until || this.#queue.size >= Math.min(this.#lastDoneSeries, this.#o.maxSeries)) return false
    if (this.#holdTimer === null) this.#holdTimer = this.#clock.setTimeout(this.#onHold, until - now)
    return true
  }

  #dispatch(group: PendingJob[], now: number): void {
    if (this.#holdTimer !== null) {
      this.#clock.clearTimeout(this.#holdTimer)
      this.#holdTimer = null
    }
    const n = group.length
    const end = Math.max(now, this.#busyUntil) + this.#cost.costMs(n) / this.#parallelism()
    const flight = new InFlight(n, now, end, this.#inflight.size === 0)
    this.#busyUntil = end
    this.#inflight.add(flight)
    this.#requests++
    this.#series += n
    const observe: AttemptObserver = (series, attempt, ms, verdict) => this.#observe(flight, series, attempt, ms, verdict)
    const release = (): void => this.#done(flight)
    void this.#o.send(group, observe, release).then(release)
  }

  #observe(flight: InFlight, series: number, attempt: number, ms: number, verdict: AttemptVerdict): void {
    if (verdict === 'neutral') return
    if (verdict === 'drop') {
      this.#limit.update(DROP)
      return
    }
    // What the cost model learns from (it must be the no-load cost, or the limiter would take
    // our own queueing for the upstream's speed): the first attempt of a request sent while
    // nothing of ours was in flight measured service time; a pipelined one measured service time
    // too if it took no longer than the model allows (an upstream that serves requests in
    // parallel: every sample is a no-load sample); one that waited behind another is left out.
    // The first samples always count, so a prior far from the truth is replaced at once.
    const first = attempt === 1
    if (first && (flight.alone || this.#cost.samples < WARM_SAMPLES || ms <= this.#cost.costMs(series) * QUEUED_RATIO)) this.#cost.observe(series, ms)
    this.#limit.update({ kind: 'ok', rttMs: ms, noLoadMs: this.#cost.costMs(series) })
  }

  #done(flight: InFlight): void {
    if (!this.#inflight.delete(flight)) return // released already (a retry backoff)
    const now = this.#clock.now()
    this.#lastDoneAt = now
    this.#lastDoneSeries = flight.series
    // The upstream is done with this request: only the requests still in flight keep it busy.
    let busy = now
    for (const f of this.#inflight) if (f.predictedEnd > busy) busy = f.predictedEnd
    this.#busyUntil = busy
    if (this.#o.policy === 'predicted') this.#reassess()
    this.pump()
  }

  /**
   * When a job with `ahead` series queued before it would start its own request: at once while a
   * slot is free, else once the upstream has worked through what was sent and the full batches
   * ahead of it — at the upstream's parallelism.
   */
  #predictedStart(ahead: number, now: number): number {
    const full = Math.floor(ahead / this.#o.maxSeries)
    if (full === 0 && this.#inflight.size < this.#limit.value) return now
    return Math.max(now, this.#busyUntil) + (full * this.#cost.costMs(this.#o.maxSeries)) / this.#parallelism()
  }

  /**
   * How many requests the upstream serves at once, as far as the lane can tell: the in-flight
   * limit grows past tolerance + queue (2) only while latency stays flat with more requests
   * outstanding, i.e. only on an upstream that serves them in parallel; at 2 or less it is
   * serial, as tollama is per model family.
   */
  #parallelism(): number {
    return Math.max(1, this.#limit.value - 1)
  }

  #predictedDone(ahead: number, now: number): number {
    return this.#predictedStart(ahead, now) + this.#cost.costMs((ahead % this.#o.maxSeries) + 1)
  }

  /** Shed every queued job whose predicted completion no longer fits its deadline. */
  #reassess(): void {
    const now = this.#clock.now()
    const late: PendingJob[] = []
    if (this.#o.policy === 'predicted') {
      let ahead = 0
      this.#queue.forEach((p) => {
        if (this.#predictedDone(ahead, now) > p.job.deadline - this.#o.reserveMs) late.push(p)
        else ahead++
      })
    } else {
      const limit = this.#o.queueTimeoutMs
      this.#queue.forEach((p) => {
        if (now - p.receivedAt >= limit) late.push(p)
      })
    }
    for (const p of late) this.#shedQueued(p)
    this.#rearmShedTimer(now)
  }

  /** Members of a batch about to go whose deadline its predicted service no longer fits. */
  #dropLate(group: PendingJob[], now: number): PendingJob[] {
    const done = Math.max(now, this.#busyUntil) + this.#cost.costMs(group.length)
    let kept: PendingJob[] | null = null
    for (let i = 0; i < group.length; i++) {
      const p = group[i] as PendingJob
      if (done <= p.job.deadline - this.#o.reserveMs) {
        kept?.push(p)
        continue
      }
      kept ??= group.slice(0, i)
      this.#shedNow(p)
    }
    return kept ?? group
  }

  #shedQueued(p: PendingJob): void {
    p.state = 'settled'
    this.#queue.removed(p)
    this.#shedNow(p)
  }

  #shedNow(p: PendingJob): void {
    p.state = 'settled'
    this.#shed++
    this.#o.shed(p)
  }

  /**
   * A timer for the queued job that will be too late first, so a job never waits past the point
   * where it can still be served even if no answer arrives meanwhile (a hung request in flight).
   */
  #armShedTimer(p: PendingJob, now: number): void {
    const at = this.#lastChance(p)
    if (at >= this.#shedTimerAt) return
    if (this.#shedTimer !== null) this.#clock.clearTimeout(this.#shedTimer)
    this.#shedTimerAt = at
    this.#shedTimer = this.#clock.setTimeout(this.#onShedTimer, Math.max(0, at - now))
  }

  #rearmShedTimer(now: number): void {
    if (this.#shedTimer !== null) this.#clock.clearTimeout(this.#shedTimer)
    this.#shedTimer = null
    this.#shedTimerAt = Number.POSITIVE_INFINITY
    let first: PendingJob | null = null
    let at = Number.POSITIVE_INFINITY
    this.#queue.forEach((p) => {
      const t = this.#lastChance(p)
      if (t < at) {
        at = t
        first = p
      }
    })
    if (first !== null) this.#armShedTimer(first, now)
  }

  /** The latest moment `p` may still wait in the queue. */
  #lastChance(p: PendingJob): number {
    if (this.#o.policy === 'fixed') return p.receivedAt + this.#o.queueTimeoutMs
    return p.job.deadline - this.#o.reserveMs - this.#cost.costMs(1)
  }

  #stopTimers(): void {
    if (this.#holdTimer !== null) this.#clock.clearTimeout(this.#holdTimer)
    if (this.#shedTimer !== null) this.#clock.clearTimeout(this.#shedTimer)
    this.#holdTimer = null
    this.#shedTimer = null
    this.#shedTimerAt = Number.POSITIVE_INFINITY
  }
}

const DROP = Object.freeze({ kind: 'drop' as const })
/** Samples the cost model takes whatever they look like, to leave its prior behind. */
const WARM_SAMPLES = 4
/** A pipelined request this much slower than the model waited behind another: not a cost sample. */
const QUEUED_RATIO = 1.4

function round1(x: number): number {
  return Math.round(x * 10) / 10
}
