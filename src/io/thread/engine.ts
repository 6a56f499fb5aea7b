import type { Clock } from '../../clock/clock.js'
import type { AdapterConfig } from '../../config/types.js'
import { Batcher, PendingJob } from './batcher.js'
import { UNAVAILABLE } from './classify.js'
import { TollamaClient } from './client.js'
import { CallCounters, runForecastGroup, type CallContext } from './forecast-call.js'
import { HealthMonitor } from './health.js'
import type { IoStats, UpstreamHealth, UpstreamJob, UpstreamOutcome, UpstreamRequestRecord } from '../types.js'
import { Warmup } from './warmup.js'

/**
 * The I/O actor's logic, free of threads: jobs in, outcomes out. `io-actor.ts` runs it in its
 * own worker thread (jobs in and outcomes out on its data port); tests and benchmarks can also
 * run it in-process.
 *
 * Outcomes and request records are collected and handed to `onOutcomes` once per event-loop turn
 * (one message across the thread boundary per turn, however many jobs settled in it). Each job is
 * settled exactly once.
 *
 * Closing drains rather than drops: jobs waiting for their batch window go upstream at once,
 * requests in flight finish within their own deadlines (every attempt is cut to its members'
 * deadlines, forecast-call.ts, so this wait is bounded), and only then are the connections
 * closed. Jobs that arrive after close began fail at once as `upstream_unavailable`.
 */
export interface EngineOptions {
  readonly adapter: AdapterConfig
  readonly clock: Clock
  /** Jitter source in [0, 1); `Math.random` unless a test injects one. */
  readonly random?: () => number
  readonly onOutcomes: (outcomes: UpstreamOutcome[], records: UpstreamRequestRecord[]) => void
  readonly onHealth?: (h: UpstreamHealth) => void
}

export class IoEngine {
  readonly #clock: Clock
  readonly #client: TollamaClient
  readonly #batcher: Batcher
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
    this.#batcher = new Batcher({
      clock: opts.clock,
      windowMs: a.batch_window_ms,
      maxSeries: a.batch_max_series,
      postprocessBudgetMs: a.postprocess_budget_ms,
      flush: (group) => this.#send(group),
    })
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
    const idle = this.#inflight.size === 0
    for (const job of jobs) {
      this.#received++
      const p = new PendingJob(job, now)
      if (this.#closed) this.#settle(p, { ticket: job.ticket, ok: false, reason: UNAVAILABLE.reason, attempts: 0, upstream_ms: 0, batch_size: 0, batch_id: 0 })
      else this.#batcher.add(p)
    }
    this.#batcher.flushIfIdle(idle)
  }

  health(probe: boolean): Promise<UpstreamHealth> {
    return probe && !this.#closed ? this.#health.probe() : Promise.resolve(this.#health.current)
  }

  stats(): IoStats {
    return {
      jobs_received: this.#received,
      jobs_pending: this.#batcher.pending + this.#inflight.size,
      requests_sent: this.#counters.requests_sent,
      series_sent: this.#counters.series_sent,
      retries: this.#counters.retries,
      endpoint: this.#client.forecastPath,
      restarts: 0,
    }
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
    this.#batcher.flushAll()
    if (this.#inflight.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    this.#flush()
    await this.#client.close()
  }

  #send(group: PendingJob[]): void {
    for (const p of group) this.#inflight.add(p)
    void runForecastGroup(this.#ctx, group)
  }

  #settle(p: PendingJob, outcome: UpstreamOutcome): void {
    if (p.settled) return
    p.settled = true
    this.#inflight.delete(p)
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
    this.#onOutcomes(outcomes, records)
  }
}
