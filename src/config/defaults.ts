import type { TsfmConfig } from './types.js'

/**
 * The v1.0 runtime profile (prd2-performance-blueprint.md §3) plus the defaults SPEC §1–§5 name.
 * Values not in the blueprint are chosen here and documented in the README's configuration table.
 */
export const DEFAULTS: TsfmConfig = {
  freq: '5m',
  input_len_steps: 288,
  horizon_steps: 12,
  quantiles: [0.1, 0.5, 0.9],
  transform: { space: 'logit', eps: 1e-6 },
  missing: { max_gap_minutes: 60, min_points_for_tsfm: 32 },
  adapter: {
    base_url: 'http://127.0.0.1:11435',
    model: 'chronos2',
    api_token: null,
    timeout_s: 1.2,
    retry_count: 1,
    retry_backoff_ms: 120,
    retry_jitter_ms: 80,
    retry_envelope_ms: 250,
    postprocess_budget_ms: 50,
    deadline_budget_ms: 1600,
    max_connections: 200,
    max_keepalive_connections: 50,
    keepalive_timeout_ms: 60_000,
    // After an answer, a freed lane slot waits up to this long for the callers just answered
    // (they send again within a few ms; see src/io/thread/lane/lane.ts).
    batch_window_ms: 30,
    // tollama's cost: ~25 ms + 1.2 ms per series (tollama-api.md) — 32 series use the upstream at
    // 51 % of its series rate, 128 at 72 %; a 200-market cycle takes two requests instead of seven.
    batch_max_series: 128,
    lane: { initial_inflight: 2, min_inflight: 1, max_lanes: 16, cost_fixed_ms: 25, cost_per_series_ms: 1.2 },
    health_interval_s: 10,
    hedge_after_ms: 'adaptive',
    // On by default (blueprint P2-3): a model tollama unloaded is loaded before traffic needs it.
    warmup: { enabled: true, models: [], interval_s: 600 },
  },
  cache: {
    ttl_s: 60,
    max_entries: 50_000,
    stale_while_revalidate_s: 20,
    stale_if_error_s: 120,
    // Off: the embedded single-node runner needs no Redis. 5 ms is 50–80 times what an L2 hit
    // costs over an L1 hit embedded (p50 62–104 µs vs 17–18 µs, redis-server on 127.0.0.1,
    // perf/cache/l2.bench.ts) and 0.3 % of the 1 600 ms budget.
    // The lease covers a typical upstream call (tens of ms) many times over and stays under the
    // budget, so a daemon that dies holding it delays the others by less than one deadline.
    l2: { url: null, key_prefix: 'tsfm:', command_timeout_ms: 5, lease_ms: 1000 },
  },
  circuit_breaker: {
    failures_to_open: 5,
    failure_rate_to_open: 0.5,
    window_s: 300,
    min_requests: 10,
    cooldown_s: 120,
    cooldown_multiplier: 2,
    max_cooldown_s: 600,
    cooldown_jitter: 0.1,
    half_open_probes: 2,
  },
  degradation: {
    enabled: true,
    min_requests: 10,
    degraded_enter_failure_rate: 0.25,
    degraded_enter_window_s: 180,
    baseline_only_enter_failure_rate: 0.5,
    baseline_only_enter_window_s: 300,
    fast_trip_failure_rate: 0.8,
    fast_trip_window_s: 60,
    baseline_only_exit_failure_rate: 0.25,
    baseline_only_exit_window_s: 120,
    degraded_exit_failure_rate: 0.15,
    degraded_exit_window_s: 600,
    degraded_timeout_ms: 900,
    probe_interval_s: 5,
    probe_every_n_requests: 20,
  },
  perf: {
    worker_concurrency: 32,
    per_market_inflight_limit: 1,
    queue_timeout_ms: 100,
    queue_policy: 'predicted',
    mailbox_capacity: 64,
    // One math thread handles ~5 µs per job, far beyond 32 upstream calls in flight.
    math_threads: 1,
    // perf/workers/pool.bench.ts: inline costs the main thread ~5 µs per job, a thread round
    // trip a flat ~60–90 µs; the thread path used less main-thread time from 16 jobs in every run
    // (12 was a tie, and inline always had the lower latency), so turns below 16 stay inline.
    math_inline_threshold: 16,
  },
  fallback: {
    baseline_method: 'EWMA',
    baseline_only_liquidity_bucket: 'low',
    ewma_alpha: 0.2,
    rolling_window: 64,
  },
  interval_sanity: { min_width: 0.02, max_width: 0.6 },
  routing: { default_route: 'tsfm', enabled_segments: [], baseline_segments: [] },
  // Off unless a file is named: the Python service's default path (data/derived/calibration/
  // conformal_state.json) is relative to its own checkout and means nothing to a daemon elsewhere.
  conformal: {
    state_path: null,
    watch_interval_ms: 1000,
    // Knobs from the drift simulation and the observe benchmark (src/conformal/online-config.ts).
    online: {
      enabled: false,
      target_coverage: 0.8,
      gamma: 0.01,
      window: 500,
      min_samples: 200,
      min_width_scale: 0.1,
      max_width_scale: 10,
      max_center_shift: 0.1,
      max_pending: 50_000,
      outcome_grace_s: 1800,
      persist_interval_s: 60,
    },
  },
  server: {
    host: '127.0.0.1',
    port: 8080,
    api_token: null,
    api_tokens: [],
    metrics_token: null,
    trust_proxy: [],
    body_limit_bytes: 1_048_576,
    // A request's headers are well under 1 KB, one packet on any network a trading process runs
    // on; 10 s is generous and stops a client that trickles them (Node's own default is 60 s).
    headers_timeout_ms: 10_000,
    // Receiving the whole request holds an admission slot. The largest body (body_limit_bytes,
    // 1 MiB) takes ~8.4 s at 1 Mbit/s, so 15 s admits any real client on a slow link, and a
    // stalled upload gives its slot back within 15 s (Node's default is 300 s; fastify's, none).
    request_timeout_ms: 15_000,
    admission_limit: 2048,
    // Off: the admission limit sheds by requests in progress; this sheds by event-loop lag
    // (@fastify/under-pressure), for deployments that would rather answer 503 than queue.
    max_event_loop_delay_ms: 0,
    // Load balancers that probe `/health/ready` every second notice within this; raise it to
    // probe interval × failures needed when yours probes less often.
    drain_delay_ms: 1000,
    drain_timeout_ms: 10_000,
    cycle_max_requests: 2000,
    cycle_default_budget_ms: 60_000,
    rate_limit: { enabled: true, burst: 600, refill_per_s: 50, max_identities: 10_000 },
  },
  logging: { level: 'info' },
}
