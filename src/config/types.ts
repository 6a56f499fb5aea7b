/**
 * The effective configuration. Keys are snake_case, exactly as in the YAML file under `tsfm:`
 * (the blueprint's v1.0 layout), so `config print`, the YAML file and `createRunner({config})`
 * all speak one shape. Every object is deep-frozen after validation.
 */

export type TransformSpace = 'logit' | 'identity'
export type BaselineMethod = 'EWMA' | 'KALMAN' | 'ROLLING_QUANTILE'
export type Route = 'tsfm' | 'baseline'
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface TransformConfig {
  readonly space: TransformSpace
  readonly eps: number
}

export interface MissingConfig {
  /** A request whose largest gap (declared or computed from y_ts) exceeds this goes to the baseline. */
  readonly max_gap_minutes: number
  /** Fewer points than this go to the baseline (`too_few_points`). */
  readonly min_points_for_tsfm: number
}

export interface WarmupConfig {
  readonly enabled: boolean
  /** Models to warm; empty = the default `adapter.model`. */
  readonly models: readonly string[]
  readonly interval_s: number
}

/** An upstream lane (one per model): its adaptive in-flight limit and its cost prior. */
export interface LaneConfig {
  /** Requests in flight per lane at start; the limit then adapts (cap: perf.worker_concurrency). */
  readonly initial_inflight: number
  readonly min_inflight: number
  /** Lanes (models) tracked at most; further models share one overflow lane. */
  readonly max_lanes: number
  /** The cost model's prior until the lane has measured its own: fixed ms per request … */
  readonly cost_fixed_ms: number
  /** … plus this per series. */
  readonly cost_per_series_ms: number
}

export interface AdapterConfig {
  /** The tollama daemon (the Python service's key), or several replicas of it (`baseUrls`). */
  readonly base_url: string | readonly string[]
  /** Model used when a request names none. */
  readonly model: string
  /** Bearer token sent upstream; null = none. */
  readonly api_token: string | null
  /** First-attempt timeout (normal mode). */
  readonly timeout_s: number
  readonly retry_count: number
  readonly retry_backoff_ms: number
  readonly retry_jitter_ms: number
  /** A retry is only made if at least this much (plus postprocess_budget_ms) remains. */
  readonly retry_envelope_ms: number
  readonly postprocess_budget_ms: number
  /** One absolute deadline per request: arrival + this. */
  readonly deadline_budget_ms: number
  readonly max_connections: number
  readonly max_keepalive_connections: number
  readonly keepalive_timeout_ms: number
  /** Jobs ready within this window are multiplexed into one upstream request; 0 disables. */
  readonly batch_window_ms: number
  readonly batch_max_series: number
  readonly lane: LaneConfig
  /** `GET /api/version` probe interval; 0 disables the periodic probe. */
  readonly health_interval_s: number
  /**
   * Several replicas: a batch carrying `priority: high` jobs unanswered after this long is sent
   * again to another replica for those jobs (first answer wins). `adaptive` = the replica's recent
   * p95, at least 300 ms; 0 = never.
   */
  readonly hedge_after_ms: number | 'adaptive'
  readonly warmup: WarmupConfig
}

export interface CacheConfig {
  readonly ttl_s: number
  readonly max_entries: number
  readonly stale_while_revalidate_s: number
  readonly stale_if_error_s: number
  /** The shared second-level cache in Redis (off while `url` is null). */
  readonly l2: CacheL2Config
}

/**
 * L2: answers shared by every daemon through Redis, behind each daemon's own L1, and the lease
 * that lets one daemon of the cluster compute a key the others wait for (src/cache/l2/).
 */
export interface CacheL2Config {
  /** `redis://host:port[/db]`; null = no L2 (the single-node default). */
  readonly url: string | null
  /** Prepended to every Redis key and to the publication channel (several clusters, one Redis). */
  readonly key_prefix: string
  /** An L2 lookup gives up after this long and the request goes on as without L2. */
  readonly command_timeout_ms: number
  /** How long a daemon computing a key holds it for the cluster (and others wait at most). */
  readonly lease_ms: number
}

export interface CircuitBreakerConfig {
  readonly failures_to_open: number
  readonly failure_rate_to_open: number
  readonly window_s: number
  readonly min_requests: number
  readonly cooldown_s: number
  /** Cooldown grows by this factor per consecutive re-open (1 = constant). */
  readonly cooldown_multiplier: number
  readonly max_cooldown_s: number
  /** ± fraction of jitter on each cooldown. */
  readonly cooldown_jitter: number
  readonly half_open_probes: number
}

export interface DegradationConfig {
  readonly enabled: boolean
  /** Each rule needs at least this many events in its window. */
  readonly min_requests: number
  readonly degraded_enter_failure_rate: number
  readonly degraded_enter_window_s: number
  readonly baseline_only_enter_failure_rate: number
  readonly baseline_only_enter_window_s: number
  readonly fast_trip_failure_rate: number
  readonly fast_trip_window_s: number
  readonly baseline_only_exit_failure_rate: number
  readonly baseline_only_exit_window_s: number
  readonly degraded_exit_failure_rate: number
  readonly degraded_exit_window_s: number
  /** Attempt timeout in degraded mode (no retries there). */
  readonly degraded_timeout_ms: number
  /** In baseline-only mode, a tiny real forecast is sent this often. */
  readonly probe_interval_s: number
  /** In baseline-only mode, one client request in this many goes upstream as a probe. */
  readonly probe_every_n_requests: number
}

export type QueuePolicy = 'predicted' | 'fixed'

export interface PerfConfig {
  /** The cap of each lane's adaptive in-flight limit (upstream requests). */
  readonly worker_concurrency: number
  readonly per_market_inflight_limit: number
  readonly queue_timeout_ms: number
  /** `predicted`: a queued job waits while its predicted completion fits its deadline; `fixed`: `queue_timeout_ms`. */
  readonly queue_policy: QueuePolicy
  /** Bounded mailbox per market; a full one answers `mailbox_full`. */
  readonly mailbox_capacity: number
  /** Piscina threads for the math (0 = one per spare core, at least 1). */
  readonly math_threads: number
  /** Math batches smaller than this run inline on the calling thread. */
  readonly math_inline_threshold: number
}

export interface FallbackConfig {
  readonly baseline_method: BaselineMethod
  readonly baseline_only_liquidity_bucket: string
  readonly ewma_alpha: number
  readonly rolling_window: number
}

export interface IntervalSanityConfig {
  readonly min_width: number
  readonly max_width: number
}

export interface RoutingConfig {
  readonly default_route: Route
  /** Segments routed to the TSFM when `default_route` is `baseline`. */
  readonly enabled_segments: readonly string[]
  /** Segments always routed to the baseline. */
  readonly baseline_segments: readonly string[]
}

/** Conformal calibration (the Python service's `conformal` section, plus reloading). */
export interface ConformalConfig {
  /** The state file (JSON, the Python service's schema 1/2); null = no conformal adjustment. */
  readonly state_path: string | null
  /** How often the file is checked for changes (ms); 0 = reload only on SIGHUP / `runner.reloadConformal()`. */
  readonly watch_interval_ms: number
  readonly online: OnlineConformalConfig
}

/** Calibration that learns from resolved outcomes (`POST /tsfm/outcomes`, `runner.observe`). */
export interface OnlineConformalConfig {
  readonly enabled: boolean
  /** Coverage aimed at when no state file gives one (its adjustments carry their own). */
  readonly target_coverage: number
  /** ACI step: how far the working miscoverage level moves per outcome. */
  readonly gamma: number
  /** Outcomes per segment the shift and scale are fitted to. */
  readonly window: number
  /** A segment keeps the file's adjustment until it has seen this many outcomes. */
  readonly min_samples: number
  readonly min_width_scale: number
  readonly max_width_scale: number
  /** Bound of the learned centre shift (±, probability units). */
  readonly max_center_shift: number
  /** Served bands remembered for matching, at most. */
  readonly max_pending: number
  /** A served band is kept this long after it resolves (as_of_ts + horizon × freq). */
  readonly outcome_grace_s: number
  /** Write what was learned to `state_path` this often when it changed (and on drain). */
  readonly persist_interval_s: number
}

export interface RateLimitConfig {
  readonly enabled: boolean
  /** Bucket size: requests an identity may send at once. */
  readonly burst: number
  readonly refill_per_s: number
  /** Identities tracked at most (LRU); bounds memory. */
  readonly max_identities: number
}

export interface ServerConfig {
  readonly host: string
  readonly port: number
  /** Inbound token (`TSFM_API_TOKEN`); null = no auth. */
  readonly api_token: string | null
  /** More tokens accepted besides `api_token` (rotation: the old and the new one at once). */
  readonly api_tokens: readonly string[]
  /** A token that opens `/metrics` only (a scraper's); null = `/metrics` takes the API tokens. */
  readonly metrics_token: string | null
  /** Proxies whose X-Forwarded-For names the client (its rate-limit bucket); [] = none. */
  readonly trust_proxy: readonly string[]
  readonly body_limit_bytes: number
  /** A client sends its request headers within this long, else 408 (0 = no limit). */
  readonly headers_timeout_ms: number
  /** A client sends its whole request (headers and body) within this long, else 408 (0 = no limit). */
  readonly request_timeout_ms: number
  /** Requests in the building at most; beyond → 503 with Retry-After. */
  readonly admission_limit: number
  /** Event-loop delay (ms) past which requests are shed with 503 `TSFM_OVERLOADED`; 0 = off. */
  readonly max_event_loop_delay_ms: number
  /** SIGTERM/SIGINT: keep serving (ready = 503 draining) this long before the listener closes. */
  readonly drain_delay_ms: number
  readonly drain_timeout_ms: number
  readonly cycle_max_requests: number
  readonly cycle_default_budget_ms: number
  readonly rate_limit: RateLimitConfig
}

export interface LoggingConfig {
  readonly level: LogLevel
}

export interface TsfmConfig {
  readonly freq: string
  readonly input_len_steps: number
  readonly horizon_steps: number
  readonly quantiles: readonly number[]
  readonly transform: TransformConfig
  readonly missing: MissingConfig
  readonly adapter: AdapterConfig
  readonly cache: CacheConfig
  readonly circuit_breaker: CircuitBreakerConfig
  readonly degradation: DegradationConfig
  readonly perf: PerfConfig
  readonly fallback: FallbackConfig
  readonly interval_sanity: IntervalSanityConfig
  readonly routing: RoutingConfig
  readonly conformal: ConformalConfig
  readonly server: ServerConfig
  readonly logging: LoggingConfig
}

/** What the YAML file and `createRunner({config})` accept: `{ tsfm: <partial TsfmConfig> }`. */
export type DeepPartial<T> = {
  -readonly [K in keyof T]?: T[K] extends readonly (infer _U)[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K]
}
export interface ConfigInput {
  readonly tsfm?: DeepPartial<TsfmConfig>
}
