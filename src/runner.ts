import { systemClock, type Clock } from './clock/clock.js'
import { resolveConfig } from './config/index.js'
import type { ConfigInput, TsfmConfig } from './config/types.js'
import { MathPool } from './compute/math-pool.js'
import { PoolMathPort, toBand } from './compute/math-port.js'
import { TsfmError } from './errors.js'
import { RedisL2 } from './cache/l2/redis-l2.js'
import { laneSettings, type UpstreamHealth } from './io/types.js'
import { UpstreamActor } from './io/host/io-host.js'
import { silentLogger, type Logger } from './log.js'
import { Metrics } from './metrics/metrics.js'
import { checkModels } from './models-check.js'
import { ConformalStore, type ReloadResult } from './conformal/store.js'
import { Calibration, type ObserveResult } from './conformal/calibration.js'
import { validateOutcomes } from './request/outcomes.js'
import { defaultsFromConfig, validateForecastRequest, validateForecastRequestAt } from './request/validate.js'
import type { ForecastRequest, RequestDefaults } from './request/types.js'
import type { ForecastResponse } from './response.js'
import { Cycle, type CycleItem, type CycleSummary } from './supervisor/cycle.js'
import type { AnswerSink, Waiter } from './supervisor/flight.js'
import type { RunnerEventName, RunnerEvents } from './supervisor/events.js'
import type { RunnerState } from './supervisor/state.js'
import { Supervisor, type SubmitOptions } from './supervisor/supervisor.js'
import { validRequestId } from './request/request-id.js'

export interface RunnerOptions {
  /** Same shape as the YAML file (`{ tsfm: {...} }`), partial; defaults fill the rest. */
  readonly config?: ConfigInput
  /** An already validated, frozen config (the daemon's, from file + env); wins over `config`. */
  readonly effectiveConfig?: TsfmConfig
  /** Reject unknown config keys instead of ignoring them. */
  readonly strictConfig?: boolean
  readonly logger?: Logger
  /** Share a Metrics instance (and its prom-client Registry) with the host. */
  readonly metrics?: Metrics
  /** Collect prom-client's process metrics into the runner's registry (default true). */
  readonly defaultMetrics?: boolean
  /** Tests and simulations inject a manual clock. */
  readonly clock?: Clock
  readonly random?: () => number
  /**
   * At start, ask tollama which models are installed (`GET /api/tags`, in the background) and log
   * a warning for each configured model that is missing (default true).
   */
  readonly checkModels?: boolean
}

export interface ForecastOptions {
  /** Aborting answers the request at once with a TSFM_ABORTED rejection. */
  readonly signal?: AbortSignal
  /**
   * `high`: when upstream slots are scarce, this request's market is served before other waiting
   * markets (FIFO among high ones). `normal` and `low` are served FIFO.
   */
  readonly priority?: 'high' | 'normal' | 'low'
  /**
   * The caller's request id (as `X-Request-Id` for the HTTP daemon): sent upstream with the
   * request's series (README "Request ids"). 1–128 visible ASCII characters; any other value is
   * ignored, as if absent (the upstream request then gets a generated id), never an error.
   */
  readonly requestId?: string
}

export interface CycleRunOptions {
  /** The whole cycle's budget (default `server.cycle_default_budget_ms`). */
  readonly budgetMs?: number
  /** Yield in priority order (default) or as each market completes. */
  readonly order?: 'priority' | 'completion'
  /** The caller's request id for every market of the cycle (as `ForecastOptions.requestId`). */
  readonly requestId?: string
}

/** A running cycle: an async iterator of results, then its summary. */
export interface CycleRun extends AsyncIterableIterator<CycleItem> {
  readonly summary: CycleSummary | null
  /** Stop early (`break` calls it): nothing more is sent, waiting requests are withdrawn. */
  return(): Promise<IteratorResult<CycleItem>>
}

/**
 * The embedding API (SPEC §9). `createRunner` validates the config, starts the math pool and the
 * I/O actor, and returns a runner. No global side effects: no global dispatcher, no signal
 * handlers, no process.exit; its metrics live in its own registry (`runner.metrics.registry`).
 */
export class Runner {
  readonly config: TsfmConfig
  readonly metrics: Metrics
  readonly #clock: Clock
  readonly #sup: Supervisor
  readonly #pool: MathPool
  readonly #upstream: UpstreamActor
  readonly #conformal: ConformalStore
  readonly #calibration: Calibration
  readonly #l2: RedisL2 | null
  readonly #defaults: RequestDefaults
  #closing: Promise<void> | null = null
  readonly #cycles = new Set<Cycle>()
  #draining = false

  private constructor(
    config: TsfmConfig,
    clock: Clock,
    metrics: Metrics,
    sup: Supervisor,
    pool: MathPool,
    upstream: UpstreamActor,
    conformal: ConformalStore,
    calibration: Calibration,
    l2: RedisL2 | null,
  ) {
    this.config = config
    this.#l2 = l2
    this.#conformal = conformal
    this.#calibration = calibration
    this.#clock = clock
    this.metrics = metrics
    this.#sup = sup
    this.#pool = pool
    this.#upstream = upstream
    this.#defaults = defaultsFromConfig(config)
  }

  /**
   * The threads first, then the supervisor with both ports in hand. The threads' sinks reach
   * the supervisor through `sup`, set before any job can have been sent (a health probe that
   * lands earlier is handed over once it exists).
   */
  static async create(opts: RunnerOptions = {}): Promise<Runner> {
    const config = opts.effectiveConfig ?? resolveConfig(opts.config, { strict: opts.strictConfig ?? false }).config
    const clock = opts.clock ?? systemClock
    const log = opts.logger ?? silentLogger()
    const metrics = opts.metrics ?? new Metrics({ defaultMetrics: opts.defaultMetrics ?? true })
    let sup: Supervisor | null = null
    let earlyHealth: UpstreamHealth | null = null
    // Loaded before anything is served, so the first answer already carries it; a missing or
    // invalid file is a warning, never a failed start (as in the Python service).
    const conformal = new ConformalStore({ path: config.conformal.state_path, watchIntervalMs: config.conformal.watch_interval_ms, clock, logger: log })
    await conformal.start()
    const calibration = new Calibration(conformal, config.conformal, clock, log)
    calibration.start()
    metrics.readCalibrationFrom(calibration)
    let pool: MathPool
    try {
      pool = await MathPool.start({
        threads: config.perf.math_threads,
        inlineThreshold: config.perf.math_inline_threshold,
        sink: (ticket, result) => sup?.onMath(ticket, toBand(result)),
        onError: (e) => log.error({ err: e }, 'math result delivery failed'),
      })
    } catch (e) {
      // No watcher or timer may outlive a runner that never started (an embedding process).
      await calibration.close()
      throw e
    }
    let upstream: UpstreamActor
    try {
      upstream = await UpstreamActor.start({
        adapter: config.adapter,
        lanes: laneSettings(config.perf),
        sink: (outcome) => sup?.onUpstream(outcome),
        onRecord: (rec) => sup?.onUpstreamRecord(rec),
        onHealth: (h: UpstreamHealth) => (sup === null ? (earlyHealth = h) : sup.onHealth(h)),
        onLate: () => sup?.onLateUpstream(),
        onLanes: (lanes) => sup?.onLanes(lanes),
        logger: log,
      })
    } catch (e) {
      await pool.close()
      await calibration.close()
      throw e
    }
    // The shared cache connects in the background: a runner starts whether Redis is up or not.
    const l2 =
      config.cache.l2.url === null
        ? null
        : RedisL2.start({
            config: config.cache.l2,
            keepMs: (config.cache.ttl_s + config.cache.stale_while_revalidate_s) * 1000,
            clock,
            logger: log,
            sink: (ticket, result) => sup?.onL2(ticket, result),
            onUp: (up) => metrics.cacheL2Up.set(up ? 1 : 0),
          })
    sup = new Supervisor({
      config,
      clock,
      metrics,
      logger: log,
      math: new PoolMathPort(pool, config),
      upstream,
      conformal: calibration,
      ...(opts.random === undefined ? {} : { random: opts.random }),
      ...(l2 === null ? {} : { l2 }),
    })
    if (earlyHealth !== null) sup.onHealth(earlyHealth)
    if (opts.checkModels ?? true) void checkModels(config.adapter, () => upstream.installedModels(), log)
    return new Runner(config, clock, metrics, sup, pool, upstream, conformal, calibration, l2)
  }

  /** Validate and forecast one request (the same validation as `POST /tsfm/forecast`). */
  forecast(request: unknown, opts?: ForecastOptions): Promise<ForecastResponse> {
    const v = validateForecastRequest(request, this.#defaults)
    if (!v.ok) return Promise.reject(v.error)
    return this.forecastValidated(v.value, opts)
  }

  /** Forecast an already validated request (the HTTP daemon validates on its own thread of work). */
  forecastValidated(req: ForecastRequest, opts?: ForecastOptions): Promise<ForecastResponse> {
    const signal = opts?.signal
    if (signal?.aborted === true) return Promise.reject(new TsfmError('TSFM_ABORTED', 'the request was aborted by its caller'))
    return new Promise<ForecastResponse>((resolve, reject) => {
      const sink = new PromiseSink(resolve, reject)
      const waiter = this.#sup.submit(req, sink, submitOptions(opts))
      if (signal !== undefined && waiter.state !== 'done') sink.watch(signal, this.#sup, waiter)
    })
  }

  /**
   * The low-level form of `forecastValidated`, for hosts that keep their own per-request object
   * (the HTTP daemon): the answer (or a TsfmError) goes to `sink`, no promise is made, and the
   * returned handle can be withdrawn with `withdraw()` when the caller goes away.
   */
  submit(req: ForecastRequest, sink: AnswerSink, opts?: Pick<ForecastOptions, 'priority' | 'requestId'>): Waiter {
    return this.#sup.submit(req, sink, submitOptions(opts))
  }

  /**
   * The caller of `submit` is gone (a client disconnected): its sink gets `fail(TSFM_ABORTED)`
   * unless it was already answered, and upstream work nobody else waits for is not started.
   */
  withdraw(waiter: Waiter): void {
    if (waiter.state !== 'done') this.#sup.abort(waiter)
  }

  /**
   * A top-N cycle: validates every request first (the first invalid one rejects the whole cycle,
   * as `POST /tsfm/cycle` answers 400), then serves them in priority order inside the budget.
   */
  cycle(requests: readonly unknown[], opts?: CycleRunOptions): CycleRun {
    const valid: ForecastRequest[] = []
    for (let i = 0; i < requests.length; i++) {
      const v = validateForecastRequestAt(requests[i], this.#defaults, `requests[${i}]`)
      if (!v.ok) throw v.error
      valid.push(v.value)
    }
    return this.cycleValidated(valid, opts)
  }

  cycleValidated(requests: readonly ForecastRequest[], opts?: CycleRunOptions): CycleRun {
    const cycle = new Cycle(this.#sup, this.#clock, requests, {
      budgetMs: opts?.budgetMs ?? this.config.server.cycle_default_budget_ms,
      order: opts?.order ?? 'priority',
      // Enough markets in flight to keep a full batch queued behind the one running, so the
      // lane's batches stay full; the lane sheds what cannot finish inside its deadline.
      concurrency: 2 * this.config.adapter.batch_max_series,
      reserveMs: this.config.adapter.postprocess_budget_ms,
      requestId: validRequestId(opts?.requestId),
      onFinish: (c) => {
        this.#cycles.delete(c)
        if (c.summary !== null) this.metrics.cycleDuration.observe(c.summary.wall_ms / 1000)
      },
    })
    if (cycle.summary === null) this.#cycles.add(cycle)
    if (this.#draining) cycle.exhaust()
    return cycle
  }

  /**
   * First step of a graceful stop: cycles stop sending new markets upstream and answer the rest
   * from the baseline; single requests keep being served until `close()`.
   */
  beginDrain(): Promise<void> {
    this.#draining = true
    for (const c of this.#cycles) c.exhaust()
    return Promise.resolve()
  }

  state(): RunnerState {
    return this.#sup.state()
  }

  /**
   * Read the conformal state file again now (the daemon calls it on SIGHUP; it is also re-read
   * on its own when it changes, every `conformal.watch_interval_ms`). Atomic: answers switch
   * from the old state to the new one between two answers. An unreadable or invalid file keeps
   * the state in use (`kind: 'kept'`, and a warning in the log).
   */
  reloadConformal(): Promise<ReloadResult> {
    return this.#conformal.reload()
  }

  /**
   * Resolved outcomes (the same validation as `POST /tsfm/outcomes`): each is matched to the
   * band this runner served for its (`market_id`, `as_of_ts`) and the conformal adjustment of
   * that band's segment learns from it (`conformal.online.enabled`). Outcomes that match no
   * served band are counted, not errors. Rejects with TSFM_CALIBRATION_OFF when online
   * calibration is off, and with the validation error of the first bad outcome.
   */
  observe(outcomes: unknown): ObserveResult {
    if (!this.#calibration.online) throw new TsfmError('TSFM_CALIBRATION_OFF', 'outcomes are used only with conformal.online.enabled: true (it is false)')
    const v = validateOutcomes(outcomes)
    if (!v.ok) throw v.error
    return this.#calibration.observe(v.value)
  }

  /**
   * Mode and breaker transitions, delivered after the runner's turn (a listener never runs
   * inside the supervisor). A listener that throws is reported to the `error` listeners; with
   * none, its error is thrown again on a new macrotask (as an EventEmitter's unhandled `error`).
   */
  on<K extends RunnerEventName>(event: K, fn: (e: RunnerEvents[K]) => void): this {
    this.#sup.on(event, fn)
    return this
  }

  /** The threads are up and the runner accepts work (stays true in baseline-only mode). */
  get ready(): boolean {
    return this.#closing === null && this.#upstream.alive
  }

  /** Accepted requests not yet answered. */
  get openRequests(): number {
    return this.#sup.open
  }

  /** Stop accepting, answer everything accepted (upstream or baseline), then stop the threads. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    try {
      await this.beginDrain()
      await this.#sup.close()
    } finally {
      // After the last answer (or a failed drain): what was learned is written once more, and
      // the file no longer watched.
      await this.#calibration.close()
      await this.#l2?.close()
      await this.#upstream.close()
      await this.#pool.close()
    }
  }
}

/** The supervisor's options for one request: the priority, and the request id if it is valid. */
function submitOptions(opts: Pick<ForecastOptions, 'priority' | 'requestId'> | undefined): SubmitOptions | undefined {
  if (opts === undefined) return undefined
  const requestId = validRequestId(opts.requestId)
  if (opts.priority === undefined && requestId === null) return undefined
  return { ...(opts.priority === undefined ? {} : { priority: opts.priority }), requestId }
}

/** The promise behind `runner.forecast()`: one per request, at the API boundary only. */
class PromiseSink implements AnswerSink {
  #signal: AbortSignal | null = null
  #onAbort: (() => void) | null = null

  constructor(
    readonly resolve: (r: ForecastResponse) => void,
    readonly reject: (e: TsfmError) => void,
  ) {}

  watch(signal: AbortSignal, sup: Supervisor, waiter: Waiter): void {
    this.#signal = signal
    this.#onAbort = () => sup.abort(waiter)
    signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  answer(response: ForecastResponse): void {
    this.#unwatch()
    this.resolve(response)
  }

  fail(error: TsfmError): void {
    this.#unwatch()
    this.reject(error)
  }

  #unwatch(): void {
    if (this.#signal !== null && this.#onAbort !== null) this.#signal.removeEventListener('abort', this.#onAbort)
    this.#signal = null
    this.#onAbort = null
  }
}

/** `createRunner({ config })` — SPEC §9. */
export function createRunner(opts: RunnerOptions = {}): Promise<Runner> {
  return Runner.create(opts)
}
