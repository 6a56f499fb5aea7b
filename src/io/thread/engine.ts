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
import { baseUrls } from '../../config/base-urls.js'
import { isInstalled } from '../../models-check.js'
import { OVERFLOW } from './lane/lanes.js'
import { replicaLabel } from './replica-label.js'
import type { Cancel } from './cancel.js'
import { runHedge } from './hedge-call.js'
import { HedgeBudget } from './lane/hedge-budget.js'

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
  /** Several replicas: failed requests in a row that take a replica × model slot down (`circuit_breaker.failures_to_open`). */
  readonly failuresToDown?: number
}

/**
 * Several replicas (`adapter.base_url` a list): how often a replica slot that is down is probed
 * (`GET /api/version`), and how often each replica's installed models (`/api/tags`) are asked
 * again. A killed replica restarted comes back within one probe interval plus one batch.
 */
const REPLICA_PROBE_MS = 500
const REPLICA_TAGS_MS = 30_000

export class IoEngine {
  readonly #clock: Clock
  /** One client (undici Pool) per replica; the first is the only one with one upstream. */
  readonly #clients: readonly TollamaClient[]
  readonly #client: TollamaClient
  readonly #lanes: Lanes
  readonly #health: HealthMonitor
  readonly #warmups: readonly Warmup[]
  /** One call context per replica (its client). */
  readonly #ctxs: readonly CallContext[]
  /** Each replica's installed models (`/api/tags`), null while unknown (several replicas only). */
  readonly #installed: (string[] | null)[]
  #tagsTimer: ReturnType<Clock['setTimeout']> | null = null
  /** Every lane's hedges together: at most 5 % of upstream requests (issue "scale-out" item 2). */
  readonly #hedgeBudget = new HedgeBudget()
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
    const urls = baseUrls(a)
    this.#clients = urls.map((url) => new TollamaClient(a, opts.clock, url))
    this.#client = this.#clients[0] as TollamaClient
    this.#installed = urls.map(() => null)
    const labels = urls.map(replicaLabel)
    const record = (r: UpstreamRequestRecord): void => {
      this.#records.push(r)
      this.#scheduleFlush()
    }
    const random = opts.random ?? Math.random
    this.#ctxs = this.#clients.map((client) => ({
      clock: opts.clock,
      client,
      retry: a,
      random,
      settle: (p: PendingJob, outcome: UpstreamOutcome) => this.#settle(p, outcome),
      record,
      counters: this.#counters,
    }))
    const probeTimeoutMs = Math.min(REPLICA_PROBE_MS, a.timeout_s * 1000)
    const probe = (i: number): Promise<boolean> => (this.#clients[i] as TollamaClient).version(probeTimeoutMs).then((v) => v.outcome === 'ok')
    const several = urls.length > 1
    const limit = {
      initial: a.lane.initial_inflight,
      min: Math.min(a.lane.min_inflight, opts.lanes.max_inflight),
      max: opts.lanes.max_inflight,
      tolerance: LIMIT_TOLERANCE,
      queue: LIMIT_QUEUE,
    }
    this.#lanes = new Lanes(
      a.lane.max_lanes,
      (name) => {
        const lane: Lane = new Lane({
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
          send: (group, replica, observe, release, cancel) => this.#send(group, replica, observe, release, lane, cancel),
          shed: (p) => this.#shed(p),
          ...(several
            ? {
                replicas: labels.map((l) => `${name}@${l}`),
                failuresToDown: opts.failuresToDown ?? 5,
                probeMs: REPLICA_PROBE_MS,
                probe,
                random,
                hedgeAfterMs: a.hedge_after_ms,
                hedgeBudget: this.#hedgeBudget,
                hedge: (members: PendingJob[], to: number, cancel: Cancel) => runHedge(this.#ctxs[to] as CallContext, members, cancel),
              }
            : {}),
        })
        return lane
      },
    )
    this.#health = new HealthMonitor({
      clock: opts.clock,
      client: this.#client,
      intervalMs: a.health_interval_s * 1000,
      timeoutMs: a.timeout_s * 1000,
      onProbe: opts.onHealth ?? (() => undefined),
      record,
    })
    this.#warmups = this.#clients.map((client) => new Warmup({ clock: opts.clock, client, config: a.warmup, defaultModel: a.model, record }))
  }

  /** Starts the periodic health probe and the warm-up (if enabled); with several replicas, asks each for its models. */
  start(): void {
    this.#health.start()
    for (const w of this.#warmups) w.start()
    if (this.#clients.length > 1) void this.#refreshTags()
  }

  submit(jobs: readonly UpstreamJob[]): void {
    const now = this.#clock.now()
    for (const job of jobs) {
      this.#received++
      const p = new PendingJob(job, now, batchKey(job))
      if (this.#closed) {
        this.#settle(p, { ticket: job.ticket, ok: false, reason: UNAVAILABLE.reason, attempts: 0, upstream_ms: 0, batch_size: 0, batch_id: 0, upstream_request_id: null })
        continue
      }
      const lane = this.#lanes.of(job.model)
      if (lane.fresh) this.#serves(lane)
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
      this.#settle(p, { ticket, ok: false, reason: 'withdrawn', attempts: 0, upstream_ms: this.#clock.now() - p.receivedAt, batch_size: 0, batch_id: 0, upstream_request_id: null })
    }
  }

  /** Every lane's state now. */
  lanes(): LaneStats[] {
    const out: LaneStats[] = []
    for (const lane of this.#lanes.values()) lane.snapshots(out)
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
      hedges: this.#counters.hedges,
      hedge_wins: this.#counters.hedge_wins,
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

  /**
   * `GET /api/tags`: the installed model names, or null (unreachable, timed out, unreadable).
   * With several replicas: every model some replica has (null if none answered).
   */
  async installedModels(): Promise<string[] | null> {
    if (this.#closed) return null
    if (this.#clients.length === 1) return this.#client.tags(this.#tagsTimeoutMs)
    await this.#refreshTags(false)
    let all: Set<string> | null = null
    for (const names of this.#installed) {
      if (names === null) continue
      all ??= new Set()
      for (const n of names) all.add(n)
    }
    return all === null ? null : [...all]
  }

  /** Asks every replica for its models and tells each lane where its model is (then every REPLICA_TAGS_MS). */
  async #refreshTags(again = true): Promise<void> {
    const lists = await Promise.all(this.#clients.map((c) => c.tags(this.#tagsTimeoutMs)))
    if (this.#closed) return
    // An empty list says nothing (null): a daemon with no model installed answers every model
    // with a 404 wherever it is sent, and the simulator that accepts any name lists only the
    // names it has served.
    for (let i = 0; i < lists.length; i++) {
      const names = lists[i] ?? null
      this.#installed[i] = names === null || names.length === 0 ? null : names
    }
    for (const lane of this.#lanes.values()) this.#serves(lane)
    if (!again) return
    if (this.#tagsTimer !== null) this.#clock.clearTimeout(this.#tagsTimer)
    this.#tagsTimer = this.#clock.setTimeout(
      () => {
        this.#tagsTimer = null
        void this.#refreshTags()
      },
      REPLICA_TAGS_MS,
      true,
    )
  }

  /** Which replicas have `lane`'s model (the overflow lane's models are unknown: all). */
  #serves(lane: Lane): void {
    lane.fresh = false
    if (this.#clients.length === 1) return
    lane.setServes(this.#installed.map((names) => (names === null || lane.name === OVERFLOW ? null : isInstalled(lane.name, names))))
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
    for (const w of this.#warmups) w.stop()
    if (this.#tagsTimer !== null) this.#clock.clearTimeout(this.#tagsTimer)
    this.#tagsTimer = null
    for (const lane of this.#lanes.values()) lane.flushAll()
    if (this.#inflight.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    this.#flush()
    await Promise.all(this.#clients.map((c) => c.close()))
  }

  #send(group: PendingJob[], replica: number, observe: AttemptObserver, release: () => void, lane: Lane, cancel: Cancel | null): Promise<void> {
    for (const p of group) {
      this.#queued.delete(p.job.ticket)
      this.#inflight.add(p)
    }
    const ctx = this.#ctxs[replica] as CallContext
    if (this.#clients.length === 1) return runForecastGroup(ctx, group, observe, release)
    const reroute = (): TollamaClient | null => {
      const other = lane.alternativeTo(replica)
      return other < 0 ? null : (this.#clients[other] as TollamaClient)
    }
    return runForecastGroup(ctx, group, observe, release, reroute, cancel)
  }

  /** A job its lane could not serve in time: answered at once, never sent. */
  #shed(p: PendingJob): void {
    this.#settle(p, { ticket: p.job.ticket, ok: false, reason: QUEUE_TIMEOUT.reason, attempts: 0, upstream_ms: this.#clock.now() - p.receivedAt, batch_size: 0, batch_id: 0, upstream_request_id: null })
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
