import * as Comlink from 'comlink'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { systemClock, type Clock, type TimerHandle } from '../../clock/clock.js'
import type { AdapterConfig } from '../../config/types.js'
import { TsfmError, quote } from '../../errors.js'
import type { Logger } from '../../log.js'
import { distFile } from '../../paths.js'
import { nodeEndpoint } from '../comlink-node.js'
import type { IoActorApi, IoCancelMessage, IoJobsMessage, IoPortMessage } from '../actor-api.js'
import { InflightTickets, type HeldTicket } from './inflight.js'
import { laneSettings, type IoStats, type LaneSettings, type LaneStats, type UpstreamHealth, type UpstreamJob, type UpstreamOutcome, type UpstreamRequestRecord } from '../types.js'
import { DEFAULTS } from '../../config/defaults.js'

/**
 * The main-thread side of the I/O actor: spawns the worker thread (io-actor.ts), sends it the
 * jobs of one event-loop turn in one message on the data port (y copied into fresh buffers that
 * are transferred, not cloned; control calls go through comlink, see actor-api.ts), and hands
 * every outcome to `sink` exactly once per ticket.
 *
 * Supervision (SPEC §10): if the thread dies, every job it held fails at once with
 * `upstream_unavailable`, pending `health()`/`stats()` calls resolve with what the host knows,
 * and a new thread is started — at once the first time, with doubling backoff while it keeps
 * dying within `CRASH_LOOP_WINDOW_MS` of its start (jobs submitted during a backoff fail at
 * once). Nothing waits forever: a ticket whose deadline passes without an outcome is failed
 * here with `deadline_exceeded`, and a late outcome for it is dropped (and counted: `lateDropped`,
 * `onLate`).
 *
 * Closing drains (SPEC §2.3): the jobs of this turn still go to the thread, which sends every
 * queued job and lets requests in flight finish within their own deadlines; then the thread is
 * stopped. `close()` always ends: the thread gets until the latest deadline the host holds plus
 * a margin (capped), then it is terminated and whatever it still held fails.
 */


/** A thread that dies sooner than this after its start counts as crash-looping. */
export const CRASH_LOOP_WINDOW_MS = 5_000
export const RESTART_BACKOFF_BASE_MS = 100
export const RESTART_BACKOFF_MAX_MS = 5_000
/**
 * After the latest deadline the host holds, the closing thread gets this long to post its last
 * outcomes and close its sockets. Its requests end before their deadlines (each attempt is cut to
 * `deadline − postprocess_budget_ms`), so what is left is a turn and a pool destroy; the margin is
 * for a loaded machine (GC, 2 noisy cores), and is all a thread holding nothing gets.
 */
export const CLOSE_MARGIN_MS = 1_000
/** `close()` never waits longer than this for the thread, whatever deadlines it holds. */
export const CLOSE_TIMEOUT_MAX_MS = 30_000
/** A control call bounded by an HTTP timeout (`installedModels`) gets this much more for the hop. */
export const CALL_MARGIN_MS = 250

/** How long `close()` waits for the thread to drain: to the latest held deadline plus the margin, capped. */
export function closeTimeoutMs(latestDeadline: number, now: number): number {
  return Math.min(CLOSE_TIMEOUT_MAX_MS, Math.max(0, latestDeadline - now) + CLOSE_MARGIN_MS)
}
/** A thread that has not answered `init` by then is terminated (and restarted). */
export const START_TIMEOUT_MS = 10_000

export interface UpstreamActorOptions {
  readonly adapter: AdapterConfig
  /** How the thread's lanes queue (`laneSettings(config.perf)`); the stock settings when absent. */
  readonly lanes?: LaneSettings
  /** Receives exactly one outcome per submitted ticket. */
  readonly sink: (o: UpstreamOutcome) => void
  /** Every HTTP request the actor made (tollama latency and batch-size metrics). */
  readonly onRecord?: (r: UpstreamRequestRecord) => void
  /** Every finished health probe. */
  readonly onHealth?: (h: UpstreamHealth) => void
  /**
   * Called once per outcome that reached the host for a ticket it no longer holds (already failed
   * at its deadline, or held by a thread that was replaced); the outcome itself is dropped.
   */
  readonly onLate?: () => void
  /** The lanes' state, as the thread reports it (every LANE_REPORT_MS while outcomes flow). */
  readonly onLanes?: (lanes: readonly LaneStats[]) => void
  readonly clock?: Clock
  /** Thread deaths and restarts are logged here (one line each); silent when absent. */
  readonly logger?: Logger
  /** The worker entry; the compiled `src/io/thread/io-actor.js` unless a test substitutes one. */
  readonly workerFile?: string
}

type State = 'starting' | 'ready' | 'backoff' | 'closed'
type Remote = Comlink.Remote<IoActorApi>

interface Thread {
  readonly worker: Worker
  readonly remote: Remote
  readonly port: MessagePort
  readonly startedAt: number
}

const noop = (): void => undefined

function withdrawn(ticket: number, upstream_ms: number): UpstreamOutcome {
  return { ticket, ok: false, reason: 'withdrawn', attempts: 0, upstream_ms, batch_size: 0, batch_id: 0, upstream_request_id: null }
}

function fail(ticket: number, reason: 'upstream_unavailable' | 'deadline_exceeded', upstream_ms: number, batchId = 0): UpstreamOutcome {
  return { ticket, ok: false, reason, attempts: 0, upstream_ms, batch_size: 0, batch_id: batchId, upstream_request_id: null }
}

/** Host-side failure events (a thread death fails everything it held at once): negative ids. */
let lastHostBatchId = 0

function copyCovariates(x: Readonly<Record<string, Float64Array>>): Readonly<Record<string, Float64Array>> {
  let out: Record<string, Float64Array> | null = null
  for (const name in x) (out ??= {})[name] = x[name]!.slice()
  return out ?? x
}

/** Appends the buffers of a detached job (what its message transfers) to `out`. */
function pushBuffers(job: UpstreamJob, out: ArrayBuffer[]): ArrayBuffer[] {
  out.push(job.y.buffer as ArrayBuffer)
  if (job.y_ts !== null) out.push(job.y_ts.buffer as ArrayBuffer)
  for (const name in job.x_past) out.push(job.x_past[name]!.buffer as ArrayBuffer)
  for (const name in job.x_future) out.push(job.x_future[name]!.buffer as ArrayBuffer)
  return out
}

/**
 * The job with its arrays in fresh, exactly-sized buffers (a view on a larger buffer would be
 * cloned whole), listed in `transfer`. Fields in the interface's order: one object shape.
 */
function detach(job: UpstreamJob, transfer: ArrayBuffer[]): UpstreamJob {
  const detached: UpstreamJob = {
    ticket: job.ticket,
    deadline: job.deadline,
    attempt_timeout_ms: job.attempt_timeout_ms,
    max_retries: job.max_retries,
    high: job.high,
    request_id: job.request_id,
    model: job.model,
    horizon: job.horizon,
    quantiles: job.quantiles,
    freq: job.freq,
    step_ms: job.step_ms,
    as_of_ms: job.as_of_ms,
    params: job.params,
    series_id: job.series_id,
    y: job.y.slice(),
    y_ts: job.y_ts === null ? null : job.y_ts.slice(),
    space: job.space,
    eps: job.eps,
    x_past: copyCovariates(job.x_past),
    x_future: copyCovariates(job.x_future),
  }
  pushBuffers(detached, transfer)
  return detached
}

export class UpstreamActor {
  readonly #adapter: AdapterConfig
  readonly #lanes: LaneSettings
  readonly #onLanes: (lanes: readonly LaneStats[]) => void
  readonly #sink: (o: UpstreamOutcome) => void
  readonly #onRecord: (r: UpstreamRequestRecord) => void
  readonly #onHealth: (h: UpstreamHealth) => void
  readonly #onLate: () => void
  readonly #clock: Clock
  readonly #log: Logger | null
  readonly #workerFile: string
  readonly #inflight: InflightTickets
  #state: State = 'starting'
  #thread: Thread | null = null
  /** Jobs of this turn (or waiting for a starting thread), with their buffers to transfer. */
  #outbox: UpstreamJob[] = []
  #transfer: ArrayBuffer[] = []
  /** Tickets to withdraw, sent to the thread with the next flush. */
  #cancels: number[] = []
  /** Failures decided inside `submit`, delivered with the next flush (never re-entrantly). */
  #deferred: UpstreamOutcome[] = []
  #flushScheduled = false
  /** Resolvers of `health()`/`stats()` calls to settle with a fallback if the thread dies. */
  readonly #waiters = new Set<() => void>()
  #restartTimer: TimerHandle | null = null
  #consecutiveCrashes = 0
  #restarts = 0
  #lateDropped = 0
  #closing: Promise<void> | null = null
  #lastHealth: UpstreamHealth
  #lastStats: IoStats | null = null
  /** Why the last thread died (an Error from the thread, or its exit code). */
  #deathError: unknown = null
  /** Settles when the current thread is initialised (or has died trying). */
  #ready: Promise<boolean> = Promise.resolve(false)

  private constructor(opts: UpstreamActorOptions) {
    this.#adapter = opts.adapter
    this.#lanes = opts.lanes ?? laneSettings(DEFAULTS.perf)
    this.#onLanes = opts.onLanes ?? noop
    this.#sink = opts.sink
    this.#onRecord = opts.onRecord ?? noop
    this.#onHealth = opts.onHealth ?? noop
    this.#onLate = opts.onLate ?? noop
    this.#clock = opts.clock ?? systemClock
    this.#log = opts.logger ?? null
    this.#workerFile = opts.workerFile ?? distFile('src/io/thread/io-actor.js')
    this.#inflight = new InflightTickets(this.#clock, (ticket, held) => {
      this.#sink(fail(ticket, 'deadline_exceeded', this.#clock.now() - held.submittedAt))
    })
    this.#lastHealth = { ok: false, version: null, endpoint: '/api/forecast', checked_at: 0, latency_ms: null }
  }

  /** Starts the I/O thread; rejects if the first thread cannot even initialise. */
  static async start(opts: UpstreamActorOptions): Promise<UpstreamActor> {
    const actor = new UpstreamActor(opts)
    actor.#spawn()
    if (!(await actor.#ready)) {
      const why = actor.#deathError
      await actor.close()
      throw new TsfmError('TSFM_INTERNAL', `I/O actor thread failed to start: ${why instanceof Error ? why.message : quote(why)}`)
    }
    return actor
  }

  /** Tickets submitted and not answered yet. */
  get pending(): number {
    return this.#inflight.size
  }

  /** A thread is up and initialised (false while one restarts, and after close). */
  get alive(): boolean {
    return this.#state === 'ready'
  }

  /** Threads restarted after a death. */
  get restarts(): number {
    return this.#restarts
  }

  /** Outcomes dropped because the host no longer held their ticket (see `onLate`). */
  get lateDropped(): number {
    return this.#lateDropped
  }

  /**
   * Hands a job to the I/O thread (with the other jobs of this turn, in one message). Every
   * submission gets exactly one outcome: one that cannot be taken (closed, restart backoff, a
   * ticket already in flight) fails at once with `upstream_unavailable`, delivered on the next
   * turn rather than from inside this call.
   */
  submit(job: UpstreamJob): void {
    if (this.#state === 'closed' || this.#state === 'backoff' || this.#inflight.has(job.ticket)) {
      this.#deferred.push(fail(job.ticket, 'upstream_unavailable', 0))
      this.#scheduleFlush()
      return
    }
    this.#inflight.add(job.ticket, job.deadline, this.#clock.now())
    this.#outbox.push(detach(job, this.#transfer))
    if (this.#state === 'ready') this.#scheduleFlush()
  }

  /**
   * Nobody waits for `ticket` any more. A job still in this turn's outbox is taken back here and
   * answered `withdrawn` on the next turn; otherwise the thread is asked (its lane takes the job
   * back if still queued, and answers `withdrawn`; a job already sent goes on).
   */
  cancel(ticket: number): void {
    if (!this.#inflight.has(ticket)) return
    const i = this.#outbox.findIndex((j) => j.ticket === ticket)
    if (i >= 0) {
      this.#outbox.splice(i, 1)
      const held = this.#inflight.take(ticket)
      this.#deferred.push(withdrawn(ticket, held === undefined ? 0 : this.#clock.now() - held.submittedAt))
    } else {
      this.#cancels.push(ticket)
    }
    this.#scheduleFlush()
  }

  /** The last probe (`probe` true: probe now). Never rejects, also when the thread dies meanwhile. */
  health(probe = false): Promise<UpstreamHealth> {
    return this.#call((r) => r.health(probe), () => this.#lastHealth).then((h) => {
      this.#lastHealth = h
      return h
    })
  }

  /** The actor's counters; the host's own view (`restarts`, `jobs_pending`) is authoritative. */
  stats(): Promise<IoStats> {
    const fallback = (): IoStats => ({
      jobs_received: this.#lastStats?.jobs_received ?? 0,
      jobs_pending: 0,
      requests_sent: this.#lastStats?.requests_sent ?? 0,
      series_sent: this.#lastStats?.series_sent ?? 0,
      retries: this.#lastStats?.retries ?? 0,
      hedges: this.#lastStats?.hedges ?? 0,
      hedge_wins: this.#lastStats?.hedge_wins ?? 0,
      endpoint: this.#lastHealth.endpoint,
      restarts: 0,
      lanes: this.#lastStats?.lanes ?? [],
    })
    return this.#call((r) => r.stats(), fallback).then((s) => {
      this.#lastStats = s
      return { ...s, jobs_pending: this.#inflight.size, restarts: this.#restarts }
    })
  }

  /**
   * The models tollama has installed (`GET /api/tags`; names as tollama gives them, e.g.
   * `chronos2:latest`), for a start-up check of the configured models. Null when tollama is
   * unreachable, times out or answers something unreadable, and when the thread is down or does
   * not answer. Never rejects; ends within the adapter's `timeout_s` plus CALL_MARGIN_MS.
   */
  installedModels(): Promise<string[] | null> {
    return this.#call((r) => r.tags(), () => null, this.#adapter.timeout_s * 1000 + CALL_MARGIN_MS)
  }

  /**
   * Drains, then stops the thread: the jobs of this turn are still sent, queued jobs go upstream at
   * once, requests in flight finish within their deadlines. Jobs submitted from now on fail at
   * once with `upstream_unavailable`, as do those of a thread that is not up (restarting). Always
   * ends, by `closeTimeoutMs` of the latest held deadline. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const up = this.#state === 'ready'
    this.#state = 'closed'
    if (this.#restartTimer !== null) this.#clock.clearTimeout(this.#restartTimer)
    this.#restartTimer = null
    const thread = this.#thread
    if (thread !== null) {
      if (up) {
        this.#post(thread)
        await this.#within(thread.remote.close(), closeTimeoutMs(this.#inflight.latestDeadline(), this.#clock.now()))
        // The last outcomes travel on the data port, not with the reply; they were queued on it
        // before the reply was sent, so they are there to take now.
        for (let m = receiveMessageOnPort(thread.port); m !== undefined; m = receiveMessageOnPort(thread.port)) this.#onMessage(m.message as IoPortMessage)
      }
      this.#thread = null
      thread.port.close()
      await thread.worker.terminate()
    }
    this.#failAll('upstream_unavailable')
    this.#flush()
  }

  /** Test only: terminate the I/O thread abruptly (as an OOM kill would). */
  __killForTest(): void {
    void this.#thread?.worker.terminate()
  }

  /** Test only: an uncaught exception inside the I/O thread. */
  __crashForTest(): void {
    void this.#thread?.remote.crashForTest().catch(noop)
  }

  #spawn(): void {
    const worker = new Worker(this.#workerFile)
    const remote = Comlink.wrap<IoActorApi>(nodeEndpoint(worker))
    const { port1, port2 } = new MessageChannel()
    const thread: Thread = { worker, remote, port: port1, startedAt: this.#clock.now() }
    this.#thread = thread
    this.#state = 'starting'
    port1.on('message', (m: IoPortMessage) => this.#onMessage(m))
    let settle: (ok: boolean) => void = noop
    this.#ready = new Promise<boolean>((resolve) => (settle = resolve))
    const died = (err?: unknown): void => {
      if (this.#thread === thread) this.#deathError = err instanceof Error ? err : `exit code ${String(err)}`
      settle(false)
      this.#onDeath(thread, err instanceof Error ? err : undefined)
    }
    worker.on('error', died)
    worker.once('exit', died)
    // An initialisation that never answers must not hang start(): the thread is put down.
    const startTimer = this.#clock.setTimeout(() => {
      if (this.#thread === thread && this.#state === 'starting') void worker.terminate()
    }, START_TIMEOUT_MS, true)
    remote.init({ adapter: this.#adapter, lanes: this.#lanes }, Comlink.transfer(port2, [port2])).then(
      () => {
        this.#clock.clearTimeout(startTimer)
        if (this.#thread !== thread || this.#state === 'closed') return settle(false)
        this.#state = 'ready'
        settle(true)
        this.#scheduleFlush()
      },
      () => {
        settle(false)
        void worker.terminate()
      },
    )
  }

  #onDeath(thread: Thread, err?: unknown): void {
    if (this.#thread !== thread) return
    this.#thread = null
    if (this.#state !== 'closed') {
      this.#log?.error({ err, held: this.#inflight.size, restarts: this.#restarts + 1 }, 'I/O actor thread died; failing its jobs and restarting')
    }
    thread.port.close()
    void thread.worker.terminate()
    // Everything the dead thread held, and everything waiting for it, fails now.
    this.#failAll('upstream_unavailable')
    for (const settle of [...this.#waiters]) settle()
    this.#waiters.clear()
    if (this.#state === 'closed') return
    this.#restarts++
    const lived = this.#clock.now() - thread.startedAt
    this.#consecutiveCrashes = lived < CRASH_LOOP_WINDOW_MS ? this.#consecutiveCrashes + 1 : 1
    const delay =
      this.#consecutiveCrashes <= 1 ? 0 : Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_BASE_MS * 2 ** (this.#consecutiveCrashes - 2))
    if (delay === 0) {
      this.#spawn()
      return
    }
    this.#state = 'backoff'
    this.#restartTimer = this.#clock.setTimeout(() => {
      this.#restartTimer = null
      if (this.#state === 'backoff') this.#spawn()
    }, delay)
  }

  #failAll(reason: 'upstream_unavailable'): void {
    const now = this.#clock.now()
    const batchId = --lastHostBatchId
    this.#outbox = []
    this.#transfer = []
    for (const [ticket, held] of this.#inflight.takeAll()) this.#sink(fail(ticket, reason, now - held.submittedAt, batchId))
  }

  #onMessage(m: IoPortMessage): void {
    if (m.t === 'health') {
      this.#lastHealth = m.health
      this.#onHealth(m.health)
      return
    }
    for (const o of m.outcomes) {
      if (this.#inflight.take(o.ticket) !== undefined) {
        this.#sink(o)
      } else {
        this.#lateDropped++
        this.#onLate()
      }
    }
    for (const r of m.records) this.#onRecord(r)
    if (m.lanes !== null) this.#onLanes(m.lanes)
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(this.#flushBound)
  }

  readonly #flushBound = (): void => this.#flush()

  #flush(): void {
    this.#flushScheduled = false
    if (this.#deferred.length > 0) {
      const deferred = this.#deferred
      this.#deferred = []
      for (const o of deferred) this.#sink(o)
    }
    const thread = this.#thread
    if (thread !== null && this.#state === 'ready') this.#post(thread)
  }

  /** Posts the outbox (the jobs of this turn) to `thread` in one message, then any cancels. */
  #post(thread: Thread): void {
    if (this.#cancels.length > 0) {
      const msg: IoCancelMessage = { t: 'cancel', tickets: this.#cancels }
      this.#cancels = []
      // After this turn's jobs, so a job and its cancel in one turn arrive in that order.
      queueMicrotask(() => thread.port.postMessage(msg))
    }
    if (this.#outbox.length === 0) return
    const jobs = this.#outbox
    const transfer = this.#transfer
    this.#outbox = []
    this.#transfer = []
    try {
      const msg: IoJobsMessage = jobs
      thread.port.postMessage(msg, transfer)
    } catch (err) {
      this.#postEach(thread, jobs, err)
    }
  }

  /**
   * The structured clone refused the turn's message (validation bounds what reaches it; this is
   * the net under it, e.g. for an embedding caller's exotic `params`). Nothing was transferred:
   * each job is sent alone, and only one that still cannot be sent fails, as unavailable.
   */
  #postEach(thread: Thread, jobs: readonly UpstreamJob[], err: unknown): void {
    this.#log?.error({ err, jobs: jobs.length }, 'the I/O thread refused a message of jobs; sending them one by one')
    const batchId = --lastHostBatchId
    for (const job of jobs) {
      try {
        const msg: IoJobsMessage = [job]
        thread.port.postMessage(msg, pushBuffers(job, []))
      } catch {
        const held = this.#inflight.take(job.ticket)
        if (held !== undefined) this.#sink(fail(job.ticket, 'upstream_unavailable', this.#clock.now() - held.submittedAt, batchId))
      }
    }
  }

  /**
   * A comlink call that settles with `fallback()` if the thread is down or dies meanwhile, or
   * (with `timeoutMs` > 0) does not answer within `timeoutMs`.
   */
  #call<T>(fn: (r: Remote) => Promise<T>, fallback: () => T, timeoutMs = 0): Promise<T> {
    const thread = this.#thread
    if (thread === null || this.#state !== 'ready') return Promise.resolve(fallback())
    return new Promise<T>((resolve) => {
      let timer: TimerHandle | null = null
      const done = (v: T): void => {
        if (timer !== null) this.#clock.clearTimeout(timer)
        timer = null
        this.#waiters.delete(settle)
        resolve(v)
      }
      const settle = (): void => done(fallback())
      this.#waiters.add(settle)
      if (timeoutMs > 0) timer = this.#clock.setTimeout(settle, timeoutMs, true)
      fn(thread.remote).then(done, settle)
    })
  }

  async #within(p: Promise<unknown>, ms: number): Promise<void> {
    let timer: TimerHandle | null = null
    const thread = this.#thread
    await Promise.race([
      p.catch(noop),
      new Promise<void>((resolve) => {
        timer = this.#clock.setTimeout(resolve, ms, true)
        thread?.worker.once('exit', () => resolve())
      }),
    ])
    if (timer !== null) this.#clock.clearTimeout(timer)
  }
}

export type { HeldTicket }
