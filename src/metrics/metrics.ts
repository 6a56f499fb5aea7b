import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { FallbackReason } from '../reasons.js'
import { FIXED_REASONS } from '../reasons.js'
import type { LaneStats } from '../io/types.js'
import { ERRORS } from '../errors.js'
import { packageVersion } from '../version.js'

/**
 * Every metric tsfm-runner exports, defined once (SPEC §8). One Registry per runner — never
 * prom-client's global one — so an embedding process keeps its own metrics apart and can expose
 * ours. Label values are bound once here (prom-client's `labels()` hashes its arguments on every
 * call); the hot path only calls `observe`/`inc` on pre-bound children. No `market_id` label.
 */

/** 0.1 ms .. 5 s, roughly ×2.5 per bucket. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128]
/** Seconds: the new histograms use Prometheus's base unit (the blueprint's `_ms` names stay as they are). */
export const HTTP_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
export const CYCLE_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

export type Runtime = 'tollama' | 'baseline'
export type CacheResult = 'hit' | 'stale' | 'miss'

/**
 * What an L1 miss found in the shared L2 cache (src/cache/l2/): `hit`/`stale` an answer stored by
 * some daemon, `miss` nothing (this daemon computes it), `invalid` something unreadable (this
 * daemon computes and overwrites it), `wait` another daemon computes it, `shared` its published
 * answer came, `wait_timeout` it did not come in time or `gave_up` its daemon stored none (this
 * daemon computes it), `timeout` no reply within `command_timeout_ms`, `error` Redis failed the
 * command, `skipped` L2 is down and was not asked.
 */
export const L2_RESULTS = ['hit', 'stale', 'miss', 'invalid', 'wait', 'shared', 'wait_timeout', 'gave_up', 'timeout', 'error', 'skipped'] as const
export type L2ResultLabel = (typeof L2_RESULTS)[number]
export const MODE_VALUE = { normal: 0, degraded: 1, 'baseline-only': 2 } as const
export const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const

type Child<T extends { labels: (...a: never[]) => unknown }> = ReturnType<T['labels']>

export interface MetricsOptions {
  /** Process and event-loop-lag metrics (prom-client defaults); default true. */
  readonly defaultMetrics?: boolean
  /** Prefix for the default metrics only (ours are fixed by SPEC §8). */
  readonly registry?: Registry
}

/** Where the `tsfm_inflight` and `tsfm_mailbox_depth` gauges read their values at scrape time. */
/** What the conformal calibration reports (src/conformal/calibration.ts), read at scrape time. */
export interface CalibrationReading {
  readonly segment: string | null
  readonly coverage: number
  readonly meanWidth: number
}

export interface CalibrationSource {
  readings(): readonly CalibrationReading[]
  readonly counters: { readonly matched: number; readonly unmatched: number; readonly early: number }
  readonly pending: number
}

export interface QueueSource {
  readonly inflight: number
  readonly queued: number
}

export class Metrics {
  readonly registry: Registry

  readonly requestLatency: Record<Runtime, Child<Histogram<'runtime'>>>
  readonly queueWait: Histogram
  readonly requestsTotal: Counter<'status' | 'runtime'>
  readonly #fallback: Counter<'reason'>
  readonly #fallbackChildren = new Map<string, Child<Counter<'reason'>>>()
  readonly cacheRequests: Record<CacheResult, Child<Counter<'result'>>>
  readonly cacheL2: Record<L2ResultLabel, Child<Counter<'result'>>>
  /** 1 while L2 (Redis) answers in time, 0 while the runner goes on without it. */
  readonly cacheL2Up: Gauge
  readonly #degradationMode: Gauge<'lane'>
  readonly #modeChildren = new Map<string, Child<Gauge<'lane'>>>()
  readonly #breakerState: Gauge<'lane'>
  readonly #breakerChildren = new Map<string, Child<Gauge<'lane'>>>()
  readonly breakerTransitions: Counter<'from' | 'to' | 'lane'>
  readonly modeTransitions: Counter<'from' | 'to' | 'lane'>
  readonly inflight: Gauge
  readonly mailboxDepth: Gauge
  readonly upstreamBatchSize: Histogram
  readonly #laneLimit: Gauge<'lane'>
  readonly #laneInflight: Gauge<'lane'>
  readonly #laneQueue: Gauge<'lane'>
  readonly #laneWait: Gauge<'lane'>
  readonly #laneShed: Counter<'lane'>
  readonly #laneShedChildren = new Map<string, Child<Counter<'lane'>>>()
  readonly #replicaState: Gauge<'lane'>
  readonly #laneHedges: Counter<'lane'>
  /** Each lane's hedge count at its last report: the counter grows by the difference. */
  readonly #hedgesSeen = new Map<string, number>()
  readonly #tollamaLatency: Histogram<'endpoint' | 'outcome'>
  readonly #tollamaChildren = new Map<string, Child<Histogram<'endpoint' | 'outcome'>>>()
  readonly #requestsChildren = new Map<string, Child<Counter<'status' | 'runtime'>>>()
  /** 1 while the upstream answers its health check (`GET /api/version`), 0 when not; per upstream URL (config, so bounded). */
  readonly #upstreamHealthy: Gauge<'upstream'>
  /** Wall time of `POST /tsfm/cycle` and `runner.cycle()` runs (the blueprint's "cycle ≤ 60 s for ≥ 99 %"). */
  readonly cycleDuration: Histogram
  readonly #httpDuration: Histogram<'route' | 'status'>
  readonly #httpChildren = new Map<string, Child<Histogram<'route' | 'status'>>>()
  #queues: QueueSource | null = null
  #calibration: CalibrationSource | null = null

  constructor(opts: MetricsOptions = {}) {
    const registers = [(this.registry = opts.registry ?? new Registry())]
    const latency = new Histogram({
      name: 'tsfm_request_latency_ms',
      help: 'Forecast request latency inside the runner, by the runtime that answered (ms).',
      labelNames: ['runtime'] as const,
      buckets: LATENCY_BUCKETS_MS,
      registers,
    })
    this.requestLatency = { tollama: latency.labels('tollama'), baseline: latency.labels('baseline') }
    this.queueWait = new Histogram({
      name: 'tsfm_queue_wait_ms',
      help: 'Time a request waited in its market mailbox and for a global upstream slot (ms).',
      buckets: LATENCY_BUCKETS_MS,
      registers,
    })
    this.#tollamaLatency = new Histogram({
      name: 'tollama_latency_ms',
      help: 'Latency of HTTP requests to tollama, by endpoint and outcome (ms).',
      labelNames: ['endpoint', 'outcome'] as const,
      buckets: LATENCY_BUCKETS_MS,
      registers,
    })
    this.requestsTotal = new Counter({
      name: 'tsfm_requests_total',
      help: 'Forecast requests answered, by HTTP-like status and runtime.',
      labelNames: ['status', 'runtime'] as const,
      registers,
    })
    this.#fallback = new Counter({
      name: 'tsfm_fallback_total',
      help: 'Baseline answers by fallback reason (a closed set, see README).',
      labelNames: ['reason'] as const,
      registers,
    })
    // Every known label set exists from the start, at 0 (also below): a series that first appears
    // holding its burst reads 0 in `increase()` over any window (issue 13: 13 upstream_model_missing
    // and 40 baseline_only_liquidity_bucket fallbacks read as 0 in a real Prometheus).
    for (const r of FIXED_REASONS) {
      const child = this.#fallback.labels(r)
      child.inc(0)
      this.#fallbackChildren.set(r, child)
    }
    const cache = new Counter({
      name: 'tsfm_cache_requests_total',
      help: 'Forecast cache lookups by result.',
      labelNames: ['result'] as const,
      registers,
    })
    this.cacheRequests = { hit: cache.labels('hit'), stale: cache.labels('stale'), miss: cache.labels('miss') }
    for (const c of Object.values(this.cacheRequests)) c.inc(0)
    const l2 = new Counter({
      name: 'tsfm_cache_l2_total',
      help: 'Shared (L2, Redis) cache lookups after an L1 miss, by result.',
      labelNames: ['result'] as const,
      registers,
    })
    this.cacheL2 = Object.fromEntries(L2_RESULTS.map((r) => [r, l2.labels(r)])) as Record<L2ResultLabel, Child<Counter<'result'>>>
    this.cacheL2Up = new Gauge({ name: 'tsfm_cache_l2_up', help: '1 while the shared L2 cache (Redis) answers in time; 0 while it is down or not configured.', registers })
    for (const c of Object.values(this.cacheL2)) c.inc(0)
    this.#degradationMode = new Gauge({
      name: 'tsfm_degradation_mode',
      help: 'Degradation mode per upstream lane (model): 0 normal, 1 degraded, 2 baseline-only.',
      labelNames: ['lane'] as const,
      registers,
    })
    this.#breakerState = new Gauge({
      name: 'tsfm_circuit_breaker_state',
      help: 'Circuit breaker state per upstream lane (model): 0 closed, 1 half-open, 2 open.',
      labelNames: ['lane'] as const,
      registers,
    })
    this.breakerTransitions = new Counter({
      name: 'tsfm_breaker_transitions_total',
      help: 'Circuit breaker transitions, per upstream lane (model).',
      labelNames: ['from', 'to', 'lane'] as const,
      registers,
    })
    this.modeTransitions = new Counter({
      name: 'tsfm_mode_transitions_total',
      help: 'Degradation mode transitions, per upstream lane (model).',
      labelNames: ['from', 'to', 'lane'] as const,
      registers,
    })
    // Read when scraped, from the supervisor's market table (`readQueuesFrom`): a gauge set on
    // every dispatch and release would cost the request path five prom-client calls.
    const queues = (): QueueSource | null => this.#queues
    this.inflight = new Gauge({
      name: 'tsfm_inflight',
      help: 'Upstream jobs outstanding (bounded by perf.worker_concurrency).',
      registers,
      collect() {
        const q = queues()
        if (q !== null) this.set(q.inflight)
      },
    })
    this.mailboxDepth = new Gauge({
      name: 'tsfm_mailbox_depth',
      help: 'Requests waiting in market mailboxes, summed over markets.',
      registers,
      collect() {
        const q = queues()
        if (q !== null) this.set(q.queued)
      },
    })
    // Conformal calibration, read when scraped. The segment label is a state file's segment key
    // (bounded by the file, and by CoverageWindow's 256) or "default".
    const calibration = (): CalibrationSource | null => this.#calibration
    const perSegment = (name: string, help: string, value: (r: CalibrationReading) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['segment'] as const,
        registers,
        collect() {
          const c = calibration()
          if (c === null) return
          // Reset first: a segment a reloaded file no longer has must not keep reporting.
          this.reset()
          for (const r of c.readings()) this.labels(r.segment ?? 'default').set(value(r))
        },
      })
    }
    perSegment('tsfm_conformal_coverage', 'Realised coverage of the served conformal band per segment, over its last conformal.online.window outcomes.', (r) => r.coverage)
    perSegment('tsfm_conformal_width', 'Mean width (high − low) of the served conformal band per segment, over the same outcomes.', (r) => r.meanWidth)
    new Gauge({
      name: 'tsfm_conformal_pending_bands',
      help: 'Served bands waiting for their outcome (bounded by conformal.online.max_pending).',
      registers,
      collect() {
        const c = calibration()
        if (c !== null) this.set(c.pending)
      },
    })
    const reported = { matched: 0, unmatched: 0, early: 0 }
    new Counter({
      name: 'tsfm_conformal_outcomes_total',
      help: 'Resolved outcomes received: matched to a served band, unmatched (none held), early (the band does not resolve yet).',
      labelNames: ['result'] as const,
      registers,
      collect() {
        const c = calibration()
        if (c === null) return
        for (const k of ['matched', 'unmatched', 'early'] as const) {
          // inc(0) on the first scrape: the series exists at 0 before the first outcome.
          const d = c.counters[k] - reported[k]
          if (d >= 0) this.labels(k).inc(d)
          reported[k] = c.counters[k]
        }
      },
    })
    this.upstreamBatchSize = new Histogram({
      name: 'tsfm_upstream_batch_size',
      help: 'Series per upstream HTTP request (multiplexing).',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    })
    const lane = (name: string, help: string): Gauge<'lane'> => new Gauge({ name, help, labelNames: ['lane'] as const, registers })
    this.#laneLimit = lane('tsfm_lane_inflight_limit', "An upstream lane's adaptive in-flight limit (upstream requests; lane = model).")
    this.#laneInflight = lane('tsfm_lane_inflight', 'Upstream requests a lane has in flight.')
    this.#laneQueue = lane('tsfm_lane_queue_depth', 'Jobs (series) waiting in a lane for an upstream request.')
    this.#laneWait = lane('tsfm_lane_predicted_wait_ms', 'Predicted wait of a job joining the lane now, before its own request starts (ms).')
    this.#replicaState = lane('tsfm_lane_replica_state', 'Whether a lane sends to its replica (several replicas, lane = model@host:port): 0 up, 1 trial, 2 down until a probe answers.')
    this.#laneHedges = new Counter({
      name: 'tsfm_lane_hedges_total',
      help: 'Hedges sent for requests of a lane: priority high members of a request unanswered after the hedge delay, re-sent to another replica (several replicas only).',
      labelNames: ['lane'] as const,
      registers,
    })
    this.#laneShed = new Counter({
      name: 'tsfm_lane_shed_total',
      help: 'Jobs a lane answered at once from the baseline (queue_timeout) because they could not be served inside their deadline.',
      labelNames: ['lane'] as const,
      registers,
    })
    this.#upstreamHealthy = new Gauge({ name: 'tsfm_upstream_healthy', help: 'Whether the upstream answers its health check (GET /api/version): 1 yes, 0 no.', labelNames: ['upstream'] as const, registers })
    this.cycleDuration = new Histogram({ name: 'tsfm_cycle_duration_seconds', help: 'Wall time of top-N cycles, from start to the last answer (s).', buckets: CYCLE_BUCKETS_S, registers })
    this.#httpDuration = new Histogram({
      name: 'tsfm_http_request_duration_seconds',
      help: 'HTTP requests from arrival to the response sent, by route (unknown routes: other) and status (s).',
      labelNames: ['route', 'status'] as const,
      buckets: HTTP_BUCKETS_S,
      registers,
    })
    // The Prometheus convention for "what is running": join on it to see a version change.
    new Gauge({ name: 'tsfm_build_info', help: 'Always 1; labels: the tsfm-runner version and the Node.js version.', labelNames: ['version', 'node'] as const, registers }).labels(packageVersion(), process.version).set(1)
    this.inflight.set(0)
    this.mailboxDepth.set(0)
    for (const [status, runtime] of initialRequestLabels()) this.#requestChild(status, runtime).inc(0)
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 })
  }

  /** The gauges `tsfm_inflight` and `tsfm_mailbox_depth` read `source` when scraped. */
  readCalibrationFrom(source: CalibrationSource): void {
    this.#calibration = source
  }

  readQueuesFrom(source: QueueSource): void {
    this.#queues = source
  }

  /** The breaker-state gauge of `lane` (bounded: lanes are bounded by `adapter.lane.max_lanes`). */
  breakerStateOf(lane: string): Child<Gauge<'lane'>> {
    if (!this.#breakerChildren.has(lane)) zeroTransitions(this.breakerTransitions, BREAKER_STATES, lane)
    return bound(this.#breakerChildren, this.#breakerState, lane)
  }

  /** The I/O thread's report of its lanes. */
  lanes(stats: readonly LaneStats[]): void {
    for (const l of stats) {
      this.#laneLimit.labels(l.lane).set(l.limit)
      this.#laneInflight.labels(l.lane).set(l.inflight)
      this.#laneQueue.labels(l.lane).set(l.queued)
      this.#laneWait.labels(l.lane).set(l.predicted_wait_ms)
      this.#replicaState.labels(l.lane).set(REPLICA_STATE[l.health])
      // Cumulative in the I/O thread; a restarted thread counts from 0 again.
      const seen = this.#hedgesSeen.get(l.lane)
      this.#laneHedges.labels(l.lane).inc(seen === undefined ? l.hedges : l.hedges >= seen ? l.hedges - seen : l.hedges)
      this.#hedgesSeen.set(l.lane, l.hedges)
    }
  }

  /** The mode gauge of `lane` (bounded like the lanes). */
  modeOf(lane: string): Child<Gauge<'lane'>> {
    if (!this.#modeChildren.has(lane)) {
      zeroTransitions(this.modeTransitions, MODES, lane)
      bound(this.#laneShedChildren, this.#laneShed, lane).inc(0)
    }
    return bound(this.#modeChildren, this.#degradationMode, lane)
  }

  laneShed(lane: string): void {
    bound(this.#laneShedChildren, this.#laneShed, lane).inc()
  }

  fallback(reason: FallbackReason): void {
    bound(this.#fallbackChildren, this.#fallback, reason).inc()
  }

  /** Count one answered request: its HTTP status and runtime (`none` for an error answer). */
  request(status: number, runtime: Runtime | 'none'): void {
    this.#requestChild(status, runtime).inc()
  }

  #requestChild(status: number, runtime: Runtime | 'none'): Child<Counter<'status' | 'runtime'>> {
    return bound2(this.#requestsChildren, this.requestsTotal, String(status), runtime)
  }

  upstreamHealthy(upstream: string, ok: boolean): void {
    this.#upstreamHealthy.labels(upstream).set(ok ? 1 : 0)
  }

  /** One HTTP request answered (`route` from the daemon's fixed route table, so bounded). */
  http(route: string, status: number, seconds: number): void {
    bound2(this.#httpChildren, this.#httpDuration, route, String(status)).observe(seconds)
  }

  tollama(endpoint: string, outcome: string, ms: number): void {
    bound2(this.#tollamaChildren, this.#tollamaLatency, endpoint, outcome).observe(ms)
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/** `tsfm_lane_replica_state`'s encoding, as the breaker's: 0 sends, 1 on trial, 2 sends nothing. */
const REPLICA_STATE = { up: 0, trial: 1, down: 2 } as const

/** The child of `metric` for one label value, bound once and kept (prom-client hashes its labels on every `labels()` call). */
function bound<M extends { labels: (v: string) => unknown }>(children: Map<string, Child<M>>, metric: M, value: string): Child<M> {
  let child = children.get(value)
  if (child === undefined) {
    child = metric.labels(value) as Child<M>
    children.set(value, child)
  }
  return child
}

/** `bound` for a metric with two labels (the map's key joins them). */
function bound2<M extends { labels: (a: string, b: string) => unknown }>(children: Map<string, Child<M>>, metric: M, a: string, b: string): Child<M> {
  const key = `${a}|${b}`
  let child = children.get(key)
  if (child === undefined) {
    child = metric.labels(a, b) as Child<M>
    children.set(key, child)
  }
  return child
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const
const MODES = ['normal', 'degraded', 'baseline-only'] as const

/** Every transition between distinct states of a lane's machine, at 0 (6 series a machine and lane). */
function zeroTransitions(counter: Counter<'from' | 'to' | 'lane'>, states: readonly string[], lane: string): void {
  for (const from of states) for (const to of states) if (from !== to) counter.labels(from, to, lane).inc(0)
}

/** The request counts that exist from the start: answers of both runtimes, withdrawn, and every error status. */
function initialRequestLabels(): Array<[number, Runtime | 'none']> {
  const out: Array<[number, Runtime | 'none']> = [
    [200, 'tollama'],
    [200, 'baseline'],
  ]
  for (const status of new Set(Object.values(ERRORS).map((e) => e.status))) out.push([status, 'none'])
  return out
}
