import type { Clock } from '../../clock/clock.js'
import type { AdapterConfig } from '../../config/types.js'
import { batchKey } from './batch-key.js'
import { QUEUE_TIMEOUT, UNAVAILABLE } from './classify.js'
import { TollamaClient } from './client.js'
import { CallCounters, runForecastGroup, type CallContext } from './forecast-call.js'
import { HealthMonitor } from './health.js'
import type { IoStats, LaneSettings, LaneStats, UpstreamHealth, UpstreamJob, UpstreamOutcome, UpstreamRequestRecord } from '../types.js'
import { Lane, type AttemptObserver } from './lane/lane.js'
import { Lanes } from './lane/lanes.js'
import { PendingJob } from './pending-job.js'
import { Warmup } from './warmup.js'

/**
 * The in-flight limit's rule (lane/limiter.ts, Netflix's Gradient2 defaults): latency within
 * 1.5 × the no-load cost is not queueing, and the limit grows by half a request per answer while
 * it stays there and the limit is in use. On a serial upstream it settles at tolerance + queue =
 * 2: one request running and one waiting. A tighter tolerance (1.25) also settled serial
 * upstreams at one request, but this 2-core machine's noise alone exceeds 25 %, and a lane in
 * front of a parallel upstream then never grew (the mixed profile: p95 110 ms against the
 * upstream's own 84 ms).
 */
const LIMIT_TOLERANCE = 1.5
const LIMIT_QUEUE = 0.5

/** The lanes' state goes to the host with the outcomes at most this often (and on request). */
export const LANE_REPORT_MS = 250

/**
 * The I/O actor's logic, free of threads: jobs in, outcomes out. `io-actor.ts` runs it in its
 * own worker thread (jobs in and outcomes out on its data port); tests and benchmarks can also
 * run it in-process.
 *
 * Jobs go to their lane (lane/lane.ts: one per model, its own queue, batches, adaptive in-flight
 * limit and deadline-aware admission); the jobs of one arriving message are all queued before any
 * lane sends, so a turn's jobs share one request.
 *
 * Outcomes and request records are collected and handed to `onOutcomes` once per event-loop turn
 * (one message across the thread boundary per turn, however many jobs settled in it), with the
 * lanes' state every LANE_REPORT_MS. Each job is settled exactly once.
 *
 * Closing drains rather than drops: jobs waiting in their lanes go upstream at once,
 * requests in flight finish within their own deadlines (every attempt is cut to its members'
 * deadlines, forecast-call.ts, so this wait is bounded), and only then are the connections
 * closed. Jobs that arrive after close began fail at once as `upstream_unavailable`.
 */
export interface EngineOptions {
  readonly adapter: AdapterConfig
  readonly clock: Clock
  /** Jitter source in [0, 1); `Math.random` unless a test injects one. */
  readonly random?: () => number
  readonly onOutcomes: (outcomes: UpstreamOutcome[], records: UpstreamRequestRecord[], lanes: LaneStats[] | null) => void
  readonly lanes: LaneSettings
  readonly onHealth?: (h: UpstreamHealth) => void
}

export class IoEngine {
  readonly #clock: Clock
  readonly #client: TollamaClient
  readonly #lanes: Lanes
  readonly #health: HealthMonitor
  readonly #warmup: Warmup
  readonly #ctx: CallContext
  readonly #counters = new CallCounters()
  readonly #onOutcomes: EngineOptions['onOutcomes']
  readonly #tagsTimeoutMs: number
  /** Jobs handed to a group call and not yet settled. */
  readonly #inflight = new Set<PendingJob>()
  #outcomes: UpstreamOutcome[] = []
  #records: UpstreamRequestRecord[] = []
  #flushScheduled = false
  #lanesReportedAt = Number.NEGATIVE_INFINITY
  /** Jobs waiting in a lane, by ticket (what a cancel can still take back). */
  readonly #queued = new Map<number, PendingJob>()
  /** Lanes that got jobs in the message being handled (pumped once at its end). */
  readonly #touched = new Set<Lane>()
  readonly #flushBound = (): void => this.#flush()
  #received = 0
  #closed = false
  #closing: Promise<void> | null = null
  /** Resolves `close()`'s wait once the last job in flight is settled. */
  #drained: (() => void) | null = null

  constructor(opts: EngineOptions) {
    const a = opts.adapter
    this.#clock = opts.clock
    this.#onOutcomes = opts.onOutcomes
    this.#tagsTimeoutMs = a.timeout_s * 1000
    this.#client = new TollamaClient(a, opts.clock)
    const record = (r: UpstreamRequestRecord): void => {
      this.#records.push(r)
      this.#scheduleFlush()
    }
    this.#ctx = {
      clock: opts.clock,
      client: this.#client,
      retry: a,
      random: opts.random ?? Math.random,
      settle: (p, outcome) => this.#settle(p, outcome),
      record,
      counters: this.#counters,
    }
    const limit = {
      initial: a.lane.initial_inflight,
      min: Math.min(a.lane.min_inflight, opts.lanes.max_inflight),
      max: opts.lanes.max_inflight,
      tolerance: LIMIT_TOLERANCE,
      queue: LIMIT_QUEUE,
    }
    this.#lanes = new Lanes(
      a.lane.max_lanes,
      (name) =>
        new Lane({
          name,
          clock: opts.clock,
          maxSeries: a.batch_max_series,
          windowMs: a.batch_window_ms,
          reserveMs: a.postprocess_budget_ms,
          policy: opts.lanes.queue_policy,
          queueTimeoutMs: opts.lanes.queue_timeout_ms,
          limit,
          priorFixedMs: a.lane.cost_fixed_ms,
          priorPerSeriesMs: a.lane.cost_per_series_ms,
          send: (group, observe, release) => this.#send(group, observe, release),
          shed: (p) => this.#shed(p),
        }),
    )
    this.#health = new HealthMonitor({
      clock: opts.clock,
      client: this.#client,
      intervalMs: a.health_interval_s * 1000,
      timeoutMs: a.timeout_s * 1000,
      onProbe: opts.onHealth ?? (() => undefined),
      record,
    })
    this.#warmup = new Warmup({ clock: opts.clock, client: this.#client, config: a.warmup, defaultModel: a.model, record })
  }

  /** Starts the periodic health probe and the warm-up (if enabled). */
  start(): void {
    this.#health.start()
    this.#warmup.start()
  }

  submit(jobs: readonly UpstreamJob[]): void {
    const now = this.#clock.now()
    for (const job of jobs) {
      this.#received++
      const p = new PendingJob(job, now, batchKey(job))
      if (this.#closed) {
        this.#settle(p, { ticket: job.ticket, ok: false, reason: UNAVAILABLE.reason, attempts: 0, upstream_ms: 0, batch_size: 0, batch_id: 0 })
        continue
      }
      const lane = this.#lanes.of(job.model)
      this.#queued.set(job.ticket, p)
      p.lane = lane
      lane.enqueue(p)
      this.#touched.add(lane)
    }
    for (const lane of this.#touched) lane.pump()
    this.#touched.clear()
  }

  /**
   * Requesters no longer wait for these tickets: a job still queued leaves its lane and is
   * answered `withdrawn` (no upstream work for nobody); a job already sent goes on.
   */
  cancel(tickets: readonly number[]): void {
    for (const ticket of tickets) {
      const p = this.#queued.get(ticket)
      if (p === undefined || p.state !== 'queued') continue
      p.lane?.withdraw(p)
      this.#settle(p, { ticket, ok: false, reason: 'withdrawn', attempts: 0, upstream_ms: this.#clock.now() - p.receivedAt, batch_size: 0, batch_id: 0 })
    }
  }

  /** Every lane's state now. */
  lanes(): LaneStats[] {
    const out: LaneStats[] = []
    for (const lane of this.#lanes.values()) out.push(lane.snapshot())
    return out
  }

  health(probe: boolean): Promise<UpstreamHealth> {
    return probe && !this.#closed ? this.#health.probe() : Promise.resolve(this.#health.current)
  }

  stats(): IoStats {
    return {
      jobs_received: this.#received,
      jobs_pending: this.#queuedSeries() + this.#inflight.size,
      requests_sent: this.#counters.requests_sent,
      series_sent: this.#counters.series_sent,
      retries: this.#counters.retries,
      endpoint: this.#client.forecastPath,
      restarts: 0,
      lanes: this.lanes(),
    }
  }

  #queuedSeries(): number {
    let n = 0
    for (const lane of this.#lanes.values()) n += lane.queued
    return n
  }

  /** `GET /api/tags`: the installed model names, or null (unreachable, timed out, unreadable). */
  installedModels(): Promise<string[] | null> {
    return this.#closed ? Promise.resolve(null) : this.#client.tags(this.#tagsTimeoutMs)
  }

  /**
   * Sends every queued job now, lets every request in flight finish (within its deadline), hands
   * over the last outcomes, then closes the connections. Resolves when all that is done.
   */
  close(): Promise<void> {
    this.#closing ??= this.#drain()
    return this.#closing
  }

  async #drain(): Promise<void> {
    this.#closed = true
    this.#health.stop()
    this.#warmup.stop()
    for (const lane of this.#lanes.values()) lane.flushAll()
    if (this.#inflight.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    this.#flush()
    await this.#client.close()
  }

  #send(group: PendingJob[], observe: AttemptObserver, release: () => void): Promise<void> {
    for (const p of group) {
      this.#queued.delete(p.job.ticket)
      this.#inflight.add(p)
    }
    return runForecastGroup(this.#ctx, group, observe, release)
  }

  /** A job its lane could not serve in time: answered at once, never sent. */
  #shed(p: PendingJob): void {
    this.#settle(p, { ticket: p.job.ticket, ok: false, reason: QUEUE_TIMEOUT.reason, attempts: 0, upstream_ms: this.#clock.now() - p.receivedAt, batch_size: 0, batch_id: 0 })
  }

  #settle(p: PendingJob, outcome: UpstreamOutcome): void {
    if (p.settled) return
    p.settled = true
    this.#inflight.delete(p)
    this.#queued.delete(p.job.ticket)
    this.#outcomes.push(outcome)
    this.#scheduleFlush()
    if (this.#drained !== null && this.#inflight.size === 0) {
      this.#drained()
      this.#drained = null
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(this.#flushBound)
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#outcomes.length === 0 && this.#records.length === 0) return
    const outcomes = this.#outcomes
    const records = this.#records
    this.#outcomes = []
    this.#records = []
    const now = this.#clock.now()
    let lanes: LaneStats[] | null = null
    if (now - this.#lanesReportedAt >= LANE_REPORT_MS) {
      this.#lanesReportedAt = now
      lanes = this.lanes()
    }
    this.#onOutcomes(outcomes, records, lanes)
  }
}
