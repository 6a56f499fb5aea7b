import type { Clock, TimerHandle } from '../../../clock/clock.js'
import type { LaneStats } from '../../types.js'
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

/** What `/tsfm/state` and the metrics show of a lane (the protocol's `LaneStats`). */
export type LaneSnapshot = LaneStats

/** One request in flight: what it carries and when the lane expects the upstream to be done with it. */
class InFlight {
  constructor(
    readonly series: number,
    readonly sentAt: number,
    /** When the upstream is predicted to be done with it (updated as requests ahead of it end). */
    public predictedEnd: number,
    /** Nothing of ours was in flight when it was sent: its latency is service time. */
    readonly alone: boolean,
    /** Requests in flight, itself included, when it was sent (did the limit bind?). */
    readonly outstanding: number,
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
  /**
   * How much longer requests take than predicted (actual ÷ predicted time from sending to the
   * answer, smoothed): predictions are scaled by it, so a job is shed when it arrives rather than
   * after waiting on an optimistic estimate. Measured: 1.5 × capacity of open-loop arrivals shed
   * half its jobs more than 100 ms after they arrived (p99 1.1 s) before this correction.
   */
  #drift = 1
  /** The last answer: when, and how many series it carried (the hold waits for that many). */
  #lastDoneAt = Number.NEGATIVE_INFINITY
  #lastDoneSeries = 0
  #wake: TimerHandle | null = null
  #wakeAt = Number.POSITIVE_INFINITY
  #shedTimer: TimerHandle | null = null
  #shedTimerAt = Number.POSITIVE_INFINITY
  #shed = 0
  #requests = 0
  #series = 0
  #closing = false
  readonly #onWake = (): void => {
    this.#wake = null
    this.#wakeAt = Number.POSITIVE_INFINITY
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
      const done = this.#predictedDone(ahead, now)
      // Admitted only with room to spare: a job admitted at the edge was shed later, after
      // waiting, by the next small rise in the predictions (measured at 1.5 × capacity: 3 901 of
      // 4 165 sheds over 100 ms late). Re-assessment keeps the edge itself (no margin), so the
      // admitted ride out fluctuations up to the margin.
      const margin = ADMISSION_MARGIN_MS + ADMISSION_MARGIN * (done - now)
      if (done + margin > p.job.deadline - this.#o.reserveMs) return this.#shedNow(p)
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
      if (this.#holding(now) || this.#early(now)) return
      const head = this.#queue.peek() as PendingJob
      const group = this.#queue.take(head.key, this.#o.maxSeries)
      const fitting = this.#o.policy === 'predicted' ? this.#dropLate(group, now) : group
      if (fitting.length > 0) this.#dispatch(fitting, now)
    }
  }

  /** Closing: whatever is queued goes now, in batches, whatever the limit. */
  flushAll(): void {
    this.#closing = true
    if (this.#wake !== null) this.#clock.clearTimeout(this.#wake)
    this.#wake = null
    this.#wakeAt = Number.POSITIVE_INFINITY
    const now = this.#clock.now()
    while (this.#queue.size > 0) {
      const head = this.#queue.peek() as PendingJob
      this.#dispatch(this.#queue.take(head.key, this.#o.maxSeries), now)
    }
    // Nothing is queued any more: no shed timer may keep the closing thread alive.
    this.#stopTimers()
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

  /**
   * The hold after an answer: a freed slot waits for the callers just answered to send again —
   * until as many jobs as that answer carried are queued, or `windowMs` after the answer at most.
   * Measured (perf/lanes/throughput.ts, 32 closed-loop clients, 25 ms + 1.2 ms/series): the 32
   * callers' next requests reach the lane over ~20–25 ms on this 2-core machine, in clumps with
   * gaps of over 10 ms between them (so "wait while arrivals keep coming" cut the hold short);
   * no hold gave batches of 3.5 series (0.25 × CAP), a 15 ms hold 16 (0.76 ×), a 30 ms one 32
   * (0.83 ×). A lone caller (an answer of one series) is never held: its next job alone meets the
   * expectation. Open-loop traffic that does not come back waits at most `windowMs`.
   */
  #holding(now: number): boolean {
    // Only an idle lane in front of a serial upstream holds: with a request of its own still
    // running, `#early` decides; and an upstream that serves requests in parallel loses nothing
    // to a lone request, while a held job only waits — longest when the callers do not come
    // back through this lane (cache hits: the mixed profile's p95 rose from 93 to 110 ms).
    if (this.#closing || this.#o.windowMs <= 0 || this.#inflight.size > 0 || this.#parallelism() > 1) return false
    const at = this.#lastDoneAt + this.#o.windowMs
    if (now >= at || this.#queue.size >= Math.min(this.#lastDoneSeries, this.#o.maxSeries)) return false
    this.#wakeAt_(at, now)
    return true
  }

  /**
   * A free slot while the upstream is busy with all it serves at once: the next request goes
   * just before the earliest one in flight is predicted to finish (JUST_IN_TIME_MS ahead), not
   * now — it then carries everything that arrived meanwhile, and the upstream still never waits
   * on us. Sent at once instead, it would carry the first job to arrive and queue inside a serial
   * tollama behind the running request (measured: 32 closed-loop clients fell to batches of 1.9
   * series, 0.14 × CAP). An upstream that serves requests in parallel has free runners while
   * fewer than its parallelism are in flight: those are used at once.
   */
  #early(now: number): boolean {
    if (this.#closing || this.#inflight.size < this.#parallelism() || this.#queue.size >= this.#o.maxSeries) return false
    let first = Number.POSITIVE_INFINITY
    for (const f of this.#inflight) if (f.predictedEnd < first) first = f.predictedEnd
    const at = first - JUST_IN_TIME_MS
    if (now >= at) return false
    this.#wakeAt_(at, now)
    return true
  }

  /** Pump again at `at` (one timer for the hold and the just-in-time send). */
  #wakeAt_(at: number, now: number): void {
    if (at === this.#wakeAt) return
    if (this.#wake !== null) this.#clock.clearTimeout(this.#wake)
    this.#wakeAt = at
    this.#wake = this.#clock.setTimeout(this.#onWake, at - now)
  }

  #dispatch(group: PendingJob[], now: number): void {
    if (this.#wake !== null) {
      this.#clock.clearTimeout(this.#wake)
      this.#wake = null
      this.#wakeAt = Number.POSITIVE_INFINITY
    }
    const n = group.length
    const end = Math.max(now, this.#busyUntil) + this.#cost.costMs(n)
    const flight = new InFlight(n, now, end, this.#inflight.size === 0, this.#inflight.size + 1)
    this.#busyUntil = end
    this.#inflight.add(flight)
    this.#requests++
    this.#series += n
    const observe: AttemptObserver = (series, attempt, ms, verdict) => this.#observe(flight, series, attempt, ms, verdict)
    void this.#o.send(group, observe, () => this.#done(flight, false)).then(() => this.#done(flight, true))
  }

  #observe(flight: InFlight, series: number, attempt: number, ms: number, verdict: AttemptVerdict): void {
    if (verdict === 'neutral') return
    if (verdict === 'drop') {
      this.#limit.update(DROP)
      return
    }
    // What the cost model learns from — it must be the no-load cost, or the limiter would take
    // our own queueing for the upstream's speed: only the first attempt of a request sent while
    // nothing of ours was in flight, which measured service time on any upstream. Measured on
    // the serial simulator: taking pipelined samples that looked close enough fitted 0.2 ms per
    // series where the truth was 1.2; taking them once the limit said "parallel" fed back on
    // itself — a fixed cost of 395 ms learnt from waits, a limit of 30, batches of 2 series.
    // If the upstream slows under sustained load, the limit falls on the longer latency until
    // requests go alone again and the model catches up.
    if (attempt === 1 && flight.alone) this.#cost.observe(series, ms)
    this.#limit.update({ kind: 'ok', rttMs: ms, noLoadMs: this.#cost.costMs(series), outstanding: flight.outstanding })
  }

  /** The request ended (`answered`), or entered a retry backoff (its slot is free, its timing not a sample). */
  #done(flight: InFlight, answered: boolean): void {
    if (!this.#inflight.delete(flight)) return // released already (a retry backoff)
    const now = this.#clock.now()
    const predicted = flight.predictedEnd - flight.sentAt
    if (answered && predicted > 0) this.#drift = 0.8 * this.#drift + 0.2 * Math.min(4, Math.max(0.5, (now - flight.sentAt) / predicted))
    this.#lastDoneAt = now
    this.#lastDoneSeries = flight.series
    // The upstream is done with this request: the ones still in flight are served from now on,
    // in the order they were sent (a request that waited behind this one started only now —
    // its end predicted from its own send would be early whenever this one ended late).
    let busy = now
    for (const f of this.#inflight) {
      busy += this.#cost.costMs(f.series)
      if (busy > f.predictedEnd) f.predictedEnd = busy
    }
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
    // A free runner upstream (not just a free slot: on a serial upstream the next request waits
    // behind the running one, `#early`): it starts now.
    if (full === 0 && this.#inflight.size < this.#parallelism()) return now
    const work = Math.max(0, this.#busyUntil - now) + full * this.#cost.costMs(this.#o.maxSeries)
    return now + work * this.#drift
  }

  /**
   * How many requests the upstream serves at once, as far as scheduling goes: the in-flight limit
   * grows past its serial equilibrium (tolerance + queue = 2) only while latency stays flat with
   * more requests outstanding, i.e. on an upstream that serves them in parallel, where a free
   * runner is used at once instead of holding or sending just in time.
   *
   * Predictions do not use it: they count the upstream's work as served one request at a time,
   * as tollama does per model family — pessimistic on a parallel upstream, never optimistic. A
   * prediction divided by this flipped by 2× each time a serial lane's limit moved between 2 and
   * 3, and re-assessment then shed jobs that had waited 1.2 s (12 % of the sheds at 1.5 ×
   * capacity in a simulation of the lane); a parallelism kept at 1 until the limit passed 3
   * never let the limit grow past it on a parallel upstream (the mixed profile: p95 112 ms).
   */
  #parallelism(): number {
    return Math.max(1, this.#limit.value - 1)
  }

  /**
   * When a job with `ahead` series before it would be answered: its own request costed as the
   * batch it would leave in — at least everything queued now up to a full batch. Under load the
   * batch fills before it leaves, and a job admitted on the cost of its position alone was shed
   * at dispatch after waiting a second (measured at 1.5 × capacity: 29–69 % of the sheds).
   */
  #predictedDone(ahead: number, now: number): number {
    const own = Math.min(this.#o.maxSeries, Math.max((ahead % this.#o.maxSeries) + 1, this.#queue.size + 1))
    return this.#predictedStart(ahead, now) + this.#cost.costMs(own) * this.#drift
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
    const done = now + (Math.max(0, this.#busyUntil - now) + this.#cost.costMs(group.length)) * this.#drift
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
    return p.job.deadline - this.#o.reserveMs - this.#cost.costMs(1) * this.#drift
  }

  #stopTimers(): void {
    if (this.#wake !== null) this.#clock.clearTimeout(this.#wake)
    this.#wakeAt = Number.POSITIVE_INFINITY
    if (this.#shedTimer !== null) this.#clock.clearTimeout(this.#shedTimer)
    this.#wake = null
    this.#shedTimer = null
    this.#shedTimerAt = Number.POSITIVE_INFINITY
  }
}

const DROP = Object.freeze({ kind: 'drop' as const })
/** Room an admitted job must have left under its deadline: this much plus a share of its predicted wait. */
const ADMISSION_MARGIN_MS = 10
const ADMISSION_MARGIN = 0.15
/** How long before a busy upstream is predicted to be free the next request leaves (see `#early`). */
const JUST_IN_TIME_MS = 3

function round1(x: number): number {
  return Math.round(x * 10) / 10
}
