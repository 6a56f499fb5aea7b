import type { Clock, TimerHandle } from '../../../clock/clock.js'
import type { LaneStats } from '../../types.js'
import type { PendingJob } from '../pending-job.js'
import type { CostModel } from './cost-model.js'
import type { LimitConfig } from './limiter.js'
import { JobQueue } from './job-queue.js'
import { HedgeState, InFlight, Replica } from './replica.js'
import { Cancel } from '../cancel.js'
import type { HedgeBudget } from './hedge-budget.js'
import { nextHealth, type ReplicaEvent } from './replica-health.js'

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
   * The replicas' names in stats (`model@host:port`), one per replica of `adapter.base_url`;
   * absent = one replica, named as the lane.
   */
  readonly replicas?: readonly string[]
  /** Failed requests in a row that take a replica's slot down (replica-health.ts). */
  readonly failuresToDown?: number
  /** How often a slot that is down is probed. */
  readonly probeMs?: number
  /** `GET /api/version` on replica `i`: does it answer? (Several replicas only.) */
  readonly probe?: (replica: number) => Promise<boolean>
  /** Random numbers in [0, 1) for the two random choices among more than two replicas. */
  readonly random?: () => number
  /**
   * Runs one batch through its attempts on replica `replica`; resolves when every member is
   * settled. `release` may be called earlier, when the batch stops occupying the upstream (a
   * retry backoff): its slot is free from then on, and its retry goes outside the limit.
   */
  readonly send: (group: PendingJob[], replica: number, observe: AttemptObserver, release: () => void, cancel: Cancel | null) => Promise<void>
  /**
   * Hedging (several replicas): after this long a request carrying `priority: high` jobs still
   * unanswered is hedged — `adaptive` = its replica's recent p95, at least HEDGE_FLOOR_MS; 0 or
   * absent = never.
   */
  readonly hedgeAfterMs?: number | 'adaptive'
  /** Shared by every lane: hedges at most this share of upstream requests. */
  readonly hedgeBudget?: HedgeBudget
  /** Sends `members` once to replica `replica`; resolves with whether it answered them all. */
  readonly hedge?: (members: PendingJob[], replica: number, cancel: Cancel) => Promise<boolean>
  /** Settles a job shed from the queue (`queue_timeout`). */
  readonly shed: (p: PendingJob) => void
}

/** How one HTTP attempt of a batch ended, for the limiter and the cost model. */
export type AttemptVerdict = 'ok' | 'drop' | 'neutral'
/** `reason`: the failure's reason when the attempt failed (a refused connection takes a replica down at once). */
export type AttemptObserver = (series: number, attempt: number, ms: number, verdict: AttemptVerdict, reason?: string) => void

/** What `/tsfm/state` and the metrics show of a lane (the protocol's `LaneStats`). */
export type LaneSnapshot = LaneStats

export class Lane {
  readonly name: string
  /** Not yet told where its model is installed (the engine does on first use). */
  fresh = true
  readonly #o: LaneOptions
  readonly #clock: Clock
  readonly #queue = new JobQueue()
  /** One slot per replica (replica.ts); one with a single upstream. */
  readonly #replicas: readonly Replica[]
  /** More than one replica (routing between them applies). */
  readonly #several: boolean
  /** Scratch for `#predictedStart`: full batches given to each replica (no allocation per call). */
  readonly #ahead: Float64Array
  /** The replica `#predictedStart` found first free. */
  #startOn: Replica
  readonly #failuresToDown: number
  readonly #random: () => number
  #wake: TimerHandle | null = null
  #wakeAt = Number.POSITIVE_INFINITY
  #shedTimer: TimerHandle | null = null
  #shedTimerAt = Number.POSITIVE_INFINITY
  #shed = 0
  #hedges = 0
  /** Jobs queued since the lane began (`#returning` counts the callers back since an answer). */
  #arrivals = 0
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
    const names = opts.replicas ?? [opts.name]
    this.#several = names.length > 1
    this.#replicas = names.map((n, i) => new Replica(i, n, this.#several, opts.limit, opts.priorFixedMs, opts.priorPerSeriesMs))
    this.#ahead = new Float64Array(this.#replicas.length)
    this.#startOn = this.#replicas[0] as Replica
    this.#failuresToDown = opts.failuresToDown ?? 5
    this.#random = opts.random ?? Math.random
  }

  get queued(): number {
    return this.#queue.size
  }

  get inflight(): number {
    let n = 0
    for (const r of this.#replicas) n += r.inflight.size
    return n
  }

  /** The first replica's limit (the lane's, with one replica). */
  get limit(): number {
    return (this.#replicas[0] as Replica).limit.value
  }

  /** The first replica's cost model (the lane's, with one replica). */
  get cost(): CostModel {
    return (this.#replicas[0] as Replica).cost
  }

  /** Hedges sent. */
  get hedges(): number {
    return this.#hedges
  }

  /** Replica `i`'s slot (tests, stats). */
  replica(i: number): Replica {
    return this.#replicas[i] as Replica
  }

  /** Nothing queued and nothing in flight. */
  get idle(): boolean {
    return this.#queue.size === 0 && this.inflight === 0
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
    this.#arrivals++
    // A high job goes ahead of queued normal ones: their predictions got worse.
    if (p.job.high && this.#o.policy === 'predicted' && this.#queue.size > this.#queue.sizeHigh) this.#reassess()
    this.#armShedTimer(p, now)
  }

  /** Send batches while slots are free (see the file comment for the hold after an answer). */
  pump(): void {
    const now = this.#clock.now()
    while (this.#queue.size > 0) {
      const r = this.#choose(now)
      if (r === null) return
      if (this.#holding(r, now) || this.#early(r, now)) return
      const head = this.#queue.peek() as PendingJob
      const group = this.#queue.take(head.key, this.#share(r, now))
      const fitting = this.#o.policy === 'predicted' ? this.#dropLate(group, r, now) : group
      if (fitting.length > 0) this.#dispatch(fitting, r, now)
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
      const r = this.#choose(now, true) as Replica
      this.#dispatch(this.#queue.take(head.key, this.#o.maxSeries), r, now)
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

  /**
   * Which replicas have the model (`/api/tags`), by index; null for a replica that could not be
   * asked (then it is assumed to). When none has it, all are used (the upstream's 404 says so).
   */
  setServes(serves: readonly (boolean | null)[]): void {
    for (const r of this.#replicas) r.serves = serves[r.index] ?? true
    this.#reassess()
    this.pump()
  }

  /** Its state, one entry per replica (`model@host:port`), or the lane's with one replica. */
  snapshots(out: LaneSnapshot[]): void {
    const now = this.#clock.now()
    const wait = round1(this.#predictedStart(this.#queue.size, now) - now)
    for (const r of this.#replicas) {
      out.push({
        lane: r.name,
        limit: r.limit.value,
        inflight: r.inflight.size,
        queued: this.#queue.size,
        predicted_wait_ms: wait,
        shed: this.#shed,
        requests: r.requests,
        series: r.series,
        cost_fixed_ms: round1(r.cost.fixedMs),
        cost_per_series_ms: round1(r.cost.perSeriesMs * 100) / 100,
        hedges: r.hedges,
        health: r.health.state,
      })
    }
  }

  /** The first entry of `snapshots` (the lane's, with one replica). */
  snapshot(): LaneSnapshot {
    const out: LaneSnapshot[] = []
    this.snapshots(out)
    return out[0] as LaneSnapshot
  }

  // ---- routing between replicas -------------------------------------------------------

  /**
   * Which replicas a batch may go to: the healthy ones that have the model; if none is healthy,
   * those that have it; if none has it, all. With one replica: it.
   */
  #routeMode(): RouteMode {
    if (!this.#several) return ROUTE_ALL
    let serving = false
    for (const r of this.#replicas) {
      if (!r.serves) continue
      if (r.usable) return ROUTE_HEALTHY
      serving = true
    }
    return serving ? ROUTE_SERVING : ROUTE_ALL
  }

  #routable(r: Replica, mode: RouteMode): boolean {
    return mode === ROUTE_ALL || (r.serves && (mode === ROUTE_SERVING || r.usable))
  }

  /**
   * The replica the next batch goes to: among the routable ones with a free slot, the one
   * predicted to finish it first — its outstanding work plus the batch at its measured cost,
   * scaled by its drift. With more than two, two random candidates are compared (the power of
   * two choices: the herd does not all pick the one replica that looked best at the last
   * report). Null when no routable replica has a free slot (`any`: closing — any slot).
   */
  #choose(now: number, any = false): Replica | null {
    const mode = this.#routeMode()
    const n = Math.min(this.#queue.size, this.#o.maxSeries)
    let count = 0
    for (const r of this.#replicas) if (this.#routable(r, mode) && (any || r.hasSlot)) count++
    if (count === 0) return null
    let a = -1
    let b = -1
    if (count > 2) {
      a = Math.floor(this.#random() * count)
      b = Math.floor(this.#random() * (count - 1))
      if (b >= a) b++
    }
    let best: Replica | null = null
    let bestAt = Number.POSITIVE_INFINITY
    let k = 0
    for (const r of this.#replicas) {
      if (!this.#routable(r, mode) || !(any || r.hasSlot)) continue
      const ordinal = k++
      if (a >= 0 && ordinal !== a && ordinal !== b) continue
      const wait = r.inflight.size < r.parallelism ? 0 : r.backlogMs(now)
      // A replica left idle for STALE_MS gets the batch whatever its figures say: they are only
      // relearnt from its answers, and one slow request (a stall, a cold connection) otherwise
      // starved it for good — measured: 1 request of 44 in a 10 s run, the other replica alone
      // at 230 ms p50 for 32 callers.
      const stale = r.inflight.size === 0 && now - r.lastDoneAt > STALE_MS
      const at = stale ? now : now + (wait + r.cost.costMs(n)) * r.drift
      if (at < bestAt) {
        bestAt = at
        best = r
      }
    }
    return best
  }

  /**
   * How many queued jobs the batch leaving for `r` takes: a full batch — or, while other
   * replicas stand idle that would finish their part sooner than `r` the whole, an even part of
   * the queue (`r` the smallest, so each next replica finds its share queued and does not hold).
   * Sent whole to one replica, a queue that arrives at once (a cycle's markets, embedded callers
   * answered in one turn) left the others idle for good: every answer came back together and
   * the next batch was whole again (measured, two replicas at 25 ms + 6 ms/series, 32 embedded
   * closed-loop callers: every request 32 series, one replica idle; split, 16 + 16). A serial
   * upstream that is idle costs nothing to use, and half the series finish in half the time.
   */
  #share(r: Replica, now: number): number {
    const max = this.#o.maxSeries
    const q = this.#queue.size
    if (!this.#several || q < 2) return max
    const whole = r.cost.costMs(Math.min(q, max)) * r.drift
    const mode = this.#routeMode()
    let parts = 1
    for (const o of this.#replicas) {
      if (o === r || o.inflight.size > 0 || !o.hasSlot || !this.#routable(o, mode)) continue
      if (o.cost.costMs(Math.ceil(q / 2)) * o.drift < whole) parts++
    }
    // The parts of what is queued and on its way back (`#returning`): a replica whose hold
    // ended with its share queued takes that share, and the rest is the others' to wait for.
    return parts === 1 ? max : Math.min(max, Math.max(1, Math.floor((q + this.#returning(now)) / parts)))
  }

  /**
   * Where a batch that failed on replica `i` retries: if `i` is down now, the routable replica
   * predicted to be free first (the retry goes outside its limit, as every retry does: its slot
   * was released for the backoff); -1 = stay (one replica, `i` not down, or no other).
   */
  alternativeTo(i: number): number {
    const from = this.#replicas[i]
    if (from === undefined || from.health.state !== 'down') return -1
    return this.#other(from)?.index ?? -1
  }

  /** A health event of replica `r` (several replicas only: one replica's health is the main thread's breaker). */
  #health(r: Replica, e: ReplicaEvent): void {
    if (!this.#several) return
    const before = r.health
    r.health = nextHealth(before, e, this.#failuresToDown)
    if (r.health.state === before.state) return
    if (r.health.state === 'down') this.#scheduleProbe(r)
    // Fewer (or more) replicas to serve the queue: its predictions changed.
    this.#reassess()
    this.pump()
  }

  #scheduleProbe(r: Replica): void {
    const probe = this.#o.probe
    if (probe === undefined || this.#closing || r.probe !== null) return
    r.probe = this.#clock.setTimeout(
      () => {
        r.probe = null
        if (this.#closing) return
        void probe(r.index).then((ok) => {
          if (this.#closing || r.health.state !== 'down') return
          if (ok) this.#health(r, 'probe_ok')
          else this.#scheduleProbe(r)
        })
      },
      this.#o.probeMs ?? 500,
      true,
    )
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
   * expectation. Open-loop traffic that does not come back waits at most `windowMs`. With several
   * replicas the hold is the chosen replica's: the callers its last answer freed.
   */
  #holding(r: Replica, now: number): boolean {
    // Only an idle replica in front of a serial upstream holds: with a request of its own still
    // running, `#early` decides; and an upstream that serves requests in parallel loses nothing
    // to a lone request, while a held job only waits — longest when the callers do not come
    // back through this lane (cache hits: the mixed profile's p95 rose from 93 to 110 ms).
    if (this.#closing || this.#o.windowMs <= 0 || r.inflight.size > 0 || r.parallelism > 1) return false
    let want = r.lastDoneSeries
    let from = r.lastDoneAt
    if (this.#several) {
      // Several replicas: the idle one waits for its share of the callers — everything the lane
      // has out, queued or just answered and not back yet (`#returning`: with every replica idle
      // nothing is out, and the first caller back went alone, the next alone to the other
      // replica, and the callers split into ever smaller cohorts), over the replicas that serve
      // it — at most `windowMs` after its answer
      // or the head job's arrival, whichever is later. Waiting only for its own last answer's
      // callers, a replica that once sent a small batch kept sending small ones (measured, two
      // replicas at 25 ms + 6 ms/series, 32 clients: mean batch 5.4 series, 1.32 × one replica).
      want = this.#want(now)
      from = Math.max(from, (this.#queue.peek() as PendingJob).receivedAt)
    }
    const at = from + this.#o.windowMs
    if (now >= at || this.#queue.size >= Math.min(want, this.#o.maxSeries)) return false
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
  #early(r: Replica, now: number): boolean {
    if (this.#closing || r.inflight.size < r.parallelism || this.#queue.size >= this.#o.maxSeries) return false
    let first = Number.POSITIVE_INFINITY
    for (const f of r.inflight) if (f.predictedEnd < first) first = f.predictedEnd
    const at = first - JUST_IN_TIME_MS
    if (now < at) {
      this.#wakeAt_(at, now)
      return true
    }
    // Several replicas: just in time, the next request still waits for this replica's share of
    // the callers (`#want`, as an idle replica's hold), at most `windowMs` past the running
    // request's predicted end. Sent with whatever had come back, a cohort that once split stayed
    // split: measured, two replicas at 25 ms + 6 ms/series and 32 closed-loop clients settled
    // either in two cohorts of 16 (227–233/s) or in four of 8, each replica's pair pipelined
    // (197/s, 1.52 × one replica instead of 1.81). Waiting, the cohorts merge back into two.
    if (!this.#several || this.#o.windowMs <= 0) return false
    const until = first + this.#o.windowMs
    if (now >= until || this.#queue.size >= Math.min(this.#want(now), this.#o.maxSeries)) return false
    this.#wakeAt_(until, now)
    return true
  }

  /**
   * A replica's share of the lane's callers: everything out, queued or just answered and not
   * back yet (`#returning`), over the replicas that serve the lane.
   */
  #want(now: number): number {
    return Math.ceil((this.#seriesOut() + this.#queue.size + this.#returning(now)) / this.#routableCount())
  }

  /**
   * Series answered within the last `windowMs` whose callers are not back yet: what the replicas'
   * latest answers carried, less the jobs queued since the earliest of them (a caller that came
   * back is counted once, whichever answer freed it).
   */
  #returning(now: number): number {
    let answered = 0
    let earliest = Number.POSITIVE_INFINITY
    let base = this.#arrivals
    for (const r of this.#replicas) {
      if (now - r.lastDoneAt >= this.#o.windowMs) continue
      answered += r.lastDoneSeries
      if (r.lastDoneAt < earliest) {
        earliest = r.lastDoneAt
        base = r.arrivalsAtDone
      }
    }
    const back = this.#arrivals - base
    return answered > back ? answered - back : 0
  }

  /** Series in flight on every replica. */
  #seriesOut(): number {
    let n = 0
    for (const r of this.#replicas) for (const f of r.inflight) n += f.series
    return n
  }

  /** Replicas a batch may go to now (at least one). */
  #routableCount(): number {
    const mode = this.#routeMode()
    let n = 0
    for (const r of this.#replicas) if (this.#routable(r, mode)) n++
    return Math.max(1, n)
  }

  /** Pump again at `at` (one timer for the hold and the just-in-time send). */
  #wakeAt_(at: number, now: number): void {
    if (at === this.#wakeAt) return
    if (this.#wake !== null) this.#clock.clearTimeout(this.#wake)
    this.#wakeAt = at
    this.#wake = this.#clock.setTimeout(this.#onWake, at - now)
  }

  #dispatch(group: PendingJob[], r: Replica, now: number): void {
    if (this.#wake !== null) {
      this.#clock.clearTimeout(this.#wake)
      this.#wake = null
      this.#wakeAt = Number.POSITIVE_INFINITY
    }
    const n = group.length
    const end = now + r.backlogMs(now) + r.cost.costMs(n)
    const hedge = this.#hedgeable(group) ? new HedgeState(group, new Cancel()) : null
    const flight = new InFlight(r, n, now, end, r.inflight.size === 0, r.inflight.size + 1, hedge)
    r.busyUntil = end
    r.inflight.add(flight)
    r.requests++
    r.series += n
    this.#o.hedgeBudget?.earn()
    if (hedge !== null) hedge.timer = this.#clock.setTimeout(() => this.#sendHedge(flight), this.#hedgeDelay(r, n))
    const observe: AttemptObserver = (series, attempt, ms, verdict, reason) => this.#observe(flight, series, attempt, ms, verdict, reason)
    void this.#o.send(group, r.index, observe, () => this.#done(flight, false), hedge === null ? null : hedge.own).then(() => this.#done(flight, true))
  }

  // ---- hedging (several replicas) -----------------------------------------------------

  /** A batch with a `priority: high` member, hedging on and another replica to hedge to. */
  #hedgeable(group: readonly PendingJob[]): boolean {
    const after = this.#o.hedgeAfterMs
    if (!this.#several || this.#o.hedge === undefined || after === undefined || after === 0 || this.#closing) return false
    for (const p of group) if (p.job.high) return true
    return false
  }

  /**
   * How long a request of `n` series on `r` runs before it is hedged: the configured delay, or
   * (`adaptive`) the replica's recent p95 — until it has 20 answers, twice the predicted service
   * time — never under HEDGE_FLOOR_MS (the blueprint's 300 ms: a hedge sooner than that doubles
   * work for answers that were about to come anyway).
   */
  #hedgeDelay(r: Replica, n: number): number {
    const after = this.#o.hedgeAfterMs
    if (typeof after === 'number') return after
    const p95 = r.p95()
    return Math.max(HEDGE_FLOOR_MS, Number.isNaN(p95) ? 2 * r.cost.costMs(n) * r.drift : p95)
  }

  /** The hedge's moment: the request's still unanswered high members, once, to the replica predicted free first. */
  #sendHedge(flight: InFlight): void {
    const h = flight.hedge as HedgeState
    h.timer = null
    const from = flight.replica
    if (!from.inflight.has(flight) || this.#closing) return
    let members: PendingJob[] | null = null
    for (const p of h.group) if (p.job.high && !p.settled) (members ??= []).push(p)
    if (members === null) return
    const to = this.#other(from)
    if (to === null || !(this.#o.hedgeBudget?.take() ?? true)) return
    const cancel = new Cancel()
    h.sent = cancel
    this.#hedges++
    from.hedges++
    const hedge = this.#o.hedge as NonNullable<LaneOptions['hedge']>
    void hedge(members, to.index, cancel).then(() => {
      // It answered the last of the batch's members: the original request is the loser.
      for (const p of h.group) if (!p.settled) return
      h.own.abort()
    })
  }

  /** Another usable replica that has the model, the one predicted to be free first; null if none. */
  #other(from: Replica): Replica | null {
    const mode = this.#routeMode()
    const now = this.#clock.now()
    let best: Replica | null = null
    let bestAt = Number.POSITIVE_INFINITY
    for (const r of this.#replicas) {
      if (r === from || !r.usable || !this.#routable(r, mode)) continue
      const at = now + r.backlogMs(now)
      if (at < bestAt) {
        bestAt = at
        best = r
      }
    }
    return best
  }

  #observe(flight: InFlight, series: number, attempt: number, ms: number, verdict: AttemptVerdict, reason: string | undefined): void {
    if (verdict === 'neutral') return
    const r = flight.replica
    if (verdict === 'drop') {
      r.limit.update(DROP)
      this.#health(r, reason === UNREACHABLE ? 'unreachable' : 'failure')
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
    if (attempt === 1 && flight.alone) r.cost.observe(series, ms)
    if (attempt === 1) r.answered(ms)
    r.limit.update({ kind: 'ok', rttMs: ms, noLoadMs: r.cost.costMs(series), outstanding: flight.outstanding })
    this.#health(r, 'ok')
  }

  /** The request ended (`answered`), or entered a retry backoff (its slot is free, its timing not a sample). */
  #done(flight: InFlight, answered: boolean): void {
    const r = flight.replica
    const h = flight.hedge
    if (h !== null) {
      if (h.timer !== null) this.#clock.clearTimeout(h.timer)
      h.timer = null
      // The original answered first: its hedge is the loser.
      if (answered) h.sent?.abort()
    }
    if (!r.inflight.delete(flight)) return // released already (a retry backoff)
    const now = this.#clock.now()
    const predicted = flight.predictedEnd - flight.sentAt
    // How much longer requests take than predicted (actual ÷ predicted time from sending to the
    // answer, smoothed): predictions are scaled by it, so a job is shed when it arrives rather
    // than after waiting on an optimistic estimate. Measured: 1.5 × capacity of open-loop
    // arrivals shed half its jobs more than 100 ms after they arrived (p99 1.1 s) before this.
    if (answered && predicted > 0) r.drift = 0.8 * r.drift + 0.2 * Math.min(4, Math.max(0.5, (now - flight.sentAt) / predicted))
    r.lastDoneAt = now
    r.lastDoneSeries = flight.series
    r.arrivalsAtDone = this.#arrivals
    // The upstream is done with this request: the ones still in flight are served from now on,
    // in the order they were sent (a request that waited behind this one started only now —
    // its end predicted from its own send would be early whenever this one ended late).
    let busy = now
    for (const f of r.inflight) {
      busy += r.cost.costMs(f.series)
      if (busy > f.predictedEnd) f.predictedEnd = busy
    }
    r.busyUntil = busy
    if (this.#o.policy === 'predicted') this.#reassess()
    this.pump()
  }

  /**
   * When a job with `ahead` series queued before it would start its own request: at once while a
   * replica has a free runner, else once the upstream has worked through what was sent and the
   * full batches ahead of it — at the upstream's parallelism. With several replicas the full
   * batches ahead go, one by one, to the replica that would finish each first, and the job starts
   * on the replica free first after them (`#startOn`).
   */
  #predictedStart(ahead: number, now: number): number {
    const max = this.#o.maxSeries
    const full = Math.floor(ahead / max)
    const mode = this.#routeMode()
    const k = this.#ahead
    k.fill(0)
    if (!this.#several) k[0] = full
    else {
      for (let b = 0; b < full; b++) {
        let best = 0
        let bestAt = Number.POSITIVE_INFINITY
        for (const r of this.#replicas) {
          if (!this.#routable(r, mode)) continue
          const at = (r.backlogMs(now) + ((k[r.index] as number) + 1) * r.cost.costMs(max)) * r.drift
          if (at < bestAt) {
            bestAt = at
            best = r.index
          }
        }
        k[best] = (k[best] as number) + 1
      }
    }
    let start = Number.POSITIVE_INFINITY
    for (const r of this.#replicas) {
      if (!this.#routable(r, mode)) continue
      const batches = k[r.index] as number
      // A free runner upstream (not just a free slot: on a serial upstream the next request
      // waits behind the running one, `#early`): it starts now.
      const at = batches === 0 && r.inflight.size < r.parallelism ? now : now + (r.backlogMs(now) + batches * r.cost.costMs(max)) * r.drift
      if (at < start) {
        start = at
        this.#startOn = r
      }
    }
    return start
  }

  /**
   * When a job with `ahead` series before it would be answered: its own request costed as the
   * batch it would leave in — at least everything queued now up to a full batch. Under load the
   * batch fills before it leaves, and a job admitted on the cost of its position alone was shed
   * at dispatch after waiting a second (measured at 1.5 × capacity: 29–69 % of the sheds).
   *
   * Predictions count each replica's work as served one request at a time, as tollama does per
   * model family — pessimistic on a parallel upstream, never optimistic. A prediction divided by
   * the parallelism flipped by 2× each time a serial lane's limit moved between 2 and 3, and
   * re-assessment then shed jobs that had waited 1.2 s (12 % of the sheds at 1.5 × capacity in a
   * simulation of the lane).
   */
  #predictedDone(ahead: number, now: number): number {
    const own = Math.min(this.#o.maxSeries, Math.max((ahead % this.#o.maxSeries) + 1, this.#queue.size + 1))
    const start = this.#predictedStart(ahead, now)
    const r = this.#startOn
    return start + r.cost.costMs(own) * r.drift
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

  /** Members of a batch about to go to `r` whose deadline its predicted service no longer fits. */
  #dropLate(group: PendingJob[], r: Replica, now: number): PendingJob[] {
    const done = now + (r.backlogMs(now) + r.cost.costMs(group.length)) * r.drift
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

  /** The latest moment `p` may still wait in the queue: a lone request on the quickest routable replica. */
  #lastChance(p: PendingJob): number {
    if (this.#o.policy === 'fixed') return p.receivedAt + this.#o.queueTimeoutMs
    const mode = this.#routeMode()
    let single = Number.POSITIVE_INFINITY
    for (const r of this.#replicas) if (this.#routable(r, mode)) single = Math.min(single, r.cost.costMs(1) * r.drift)
    return p.job.deadline - this.#o.reserveMs - single
  }

  #stopTimers(): void {
    if (this.#wake !== null) this.#clock.clearTimeout(this.#wake)
    this.#wakeAt = Number.POSITIVE_INFINITY
    if (this.#shedTimer !== null) this.#clock.clearTimeout(this.#shedTimer)
    this.#wake = null
    this.#shedTimer = null
    this.#shedTimerAt = Number.POSITIVE_INFINITY
    for (const r of this.#replicas) {
      if (r.probe !== null) this.#clock.clearTimeout(r.probe)
      r.probe = null
    }
  }
}

/** Which replicas `#routeMode` lets a batch go to. */
type RouteMode = 0 | 1 | 2
const ROUTE_HEALTHY: RouteMode = 0
const ROUTE_SERVING: RouteMode = 1
const ROUTE_ALL: RouteMode = 2
/** The failure reason of a refused or reset connection (classify.ts UNAVAILABLE). */
const UNREACHABLE = 'upstream_unavailable'

const DROP = Object.freeze({ kind: 'drop' as const })
/** Room an admitted job must have left under its deadline: this much plus a share of its predicted wait. */
const ADMISSION_MARGIN_MS = 10
const ADMISSION_MARGIN = 0.15
/** How long before a busy upstream is predicted to be free the next request leaves (see `#early`). */
const JUST_IN_TIME_MS = 3
/** How long a replica may stay without traffic before `#choose` gives it a batch to relearn from. */
const STALE_MS = 1000
/** The adaptive hedge delay's floor (the blueprint's P2-2: `hedge_after_ms` 300). */
export const HEDGE_FLOOR_MS = 300

function round1(x: number): number {
  return Math.round(x * 10) / 10
}
