import { DEFAULTS } from './defaults.js'
import { ENV_VARS } from './env.js'
import { SCHEMA, isRule, type Rule } from './schema.js'

/**
 * The configuration reference printed in the README: every key with its default, what it
 * accepts (the same phrase the validator's messages use) and what it does, plus every
 * environment variable. test/integration/readme.test.ts fails when the README's copy is stale
 * (`make readme` rewrites it).
 */

export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  freq: 'default step of a series when a request names none (`<n>m` or `<n>h`)',
  input_len_steps: 'points sent upstream and used by the baseline: the last N of `y`',
  horizon_steps: 'default forecast horizon',
  quantiles: 'default quantile set (any set a request names is honoured)',
  'transform.space': 'default model space: `logit` (probabilities) or `identity`',
  'transform.eps': 'default logit clamp: p is clipped to [eps, 1 − eps]',
  'missing.max_gap_minutes': 'a larger gap in the series (declared or from `y_ts`) → baseline `max_gap_exceeded`',
  'missing.min_points_for_tsfm': 'fewer points → baseline `too_few_points`',
  'adapter.base_url': 'the tollama daemon; a list (env: comma-separated) = several replicas, each × model its own lane with its own health and adaptive limit, batches routed to the replica predicted to finish first',
  'adapter.model': 'model used when a request names none',
  'adapter.api_token': 'bearer token sent to tollama (null = none)',
  'adapter.timeout_s': 'first-attempt timeout in normal mode',
  'adapter.retry_count': 'retries after the first attempt (only for retryable errors, only inside the deadline)',
  'adapter.retry_backoff_ms': 'wait before a retry',
  'adapter.retry_jitter_ms': 'uniform random extra wait [0, jitter) before a retry',
  'adapter.retry_envelope_ms': 'a retry is made only if this much (plus the post-processing budget) is left',
  'adapter.postprocess_budget_ms': 'time kept back from the deadline for post-processing and answering',
  'adapter.deadline_budget_ms': 'one absolute deadline per request: arrival + this',
  'adapter.max_connections': 'undici pool connections to tollama',
  'adapter.max_keepalive_connections': 'idle keep-alive connections kept; colder idle ones are closed',
  'adapter.keepalive_timeout_ms': 'idle keep-alive connection lifetime',
  'adapter.batch_window_ms': 'after an answer, a freed lane slot waits up to this long for as many jobs as it answered (the callers sending again); otherwise a free slot takes every queued job at once',
  'adapter.batch_max_series': 'series per upstream request at most (one lane request carries every compatible queued job up to this)',
  'adapter.lane.initial_inflight': 'upstream requests in flight per lane (model) at start; then adaptive, from 1 to `perf.worker_concurrency`',
  'adapter.lane.min_inflight': 'the adaptive in-flight limit never goes below this',
  'adapter.lane.max_lanes': 'lanes (models) tracked at most; further models share one overflow lane',
  'adapter.lane.cost_fixed_ms': 'cost model prior until a lane has measured its upstream: ms per request …',
  'adapter.lane.cost_per_series_ms': '… plus ms per series',
  'adapter.health_interval_s': '`GET /api/version` probe interval (0 = only on demand)',
  'adapter.hedge_after_ms': 'several replicas: a batch with `priority: high` jobs unanswered this long is sent again to another replica for them (first answer wins, the other is cancelled; at most 5 % of upstream requests); `adaptive` = the replica\'s recent p95, at least 300 ms; 0 = never',
  'adapter.warmup.enabled': 'send a tiny forecast per model at start and every `interval_s`',
  'adapter.warmup.models': 'models to warm (empty = `adapter.model`)',
  'adapter.warmup.interval_s': 'warm-up period',
  'cache.ttl_s': 'a cached answer is fresh this long',
  'cache.max_entries': 'LRU bound of the forecast cache',
  'cache.stale_while_revalidate_s': 'after the TTL, serve stale this long while one background refresh runs',
  'cache.stale_if_error_s': 'after storing, serve a stale answer this long when the upstream fails or the breaker is open',
  'cache.l2.url': 'shared L2 cache and cluster-wide single-flight in Redis (null = off); see "Shared cache (L2)"',
  'cache.l2.key_prefix': 'prefix of every Redis key and of the publication channel',
  'cache.l2.command_timeout_ms': 'an L2 lookup gives up after this long and the request goes on without it',
  'cache.l2.lease_ms': 'a daemon computing a key holds it this long; the others wait for its answer at most this long',
  'circuit_breaker.failures_to_open': 'consecutive failed upstream requests that open the breaker',
  'circuit_breaker.failure_rate_to_open': 'failure rate over `window_s` that opens the breaker',
  'circuit_breaker.window_s': 'failure-rate window',
  'circuit_breaker.min_requests': 'outcomes needed in the window before the rate rule applies',
  'circuit_breaker.cooldown_s': 'open → half-open after this long',
  'circuit_breaker.cooldown_multiplier': 'cooldown growth per consecutive re-open (1 = constant)',
  'circuit_breaker.max_cooldown_s': 'cooldown cap',
  'circuit_breaker.cooldown_jitter': '± fraction of random jitter on each cooldown',
  'circuit_breaker.half_open_probes': 'probe requests let through in half-open; all must succeed to close',
  'degradation.enabled': 'false pins the mode to normal',
  'degradation.min_requests': 'events each mode rule needs in its window',
  'degradation.degraded_enter_failure_rate': 'normal → degraded at this failure share …',
  'degradation.degraded_enter_window_s': '… over this window',
  'degradation.baseline_only_enter_failure_rate': '→ baseline-only at this failure share …',
  'degradation.baseline_only_enter_window_s': '… over this window',
  'degradation.fast_trip_failure_rate': '→ baseline-only at once at this share …',
  'degradation.fast_trip_window_s': '… over this (short) window',
  'degradation.baseline_only_exit_failure_rate': 'baseline-only → degraded when probes fail less than this …',
  'degradation.baseline_only_exit_window_s': '… over this window',
  'degradation.degraded_exit_failure_rate': 'degraded → normal below this share (and a green health probe) …',
  'degradation.degraded_exit_window_s': '… over this window',
  'degradation.degraded_timeout_ms': 'attempt timeout in degraded mode (no retries there)',
  'degradation.probe_interval_s': 'in degraded and baseline-only mode, a tiny real forecast this often',
  'degradation.probe_every_n_requests': 'in baseline-only mode, one client request in N goes upstream as a probe',
  'perf.worker_concurrency': 'cap of each lane\'s adaptive in-flight limit (upstream requests, each carrying a batch)',
  'perf.per_market_inflight_limit': 'upstream jobs outstanding at most per market',
  'perf.queue_timeout_ms': 'with `queue_policy: fixed`, a job waiting longer in its lane → baseline `queue_timeout`',
  'perf.queue_policy': '`predicted`: a job waits while its predicted completion fits its deadline, else `queue_timeout` at once; `fixed`: `queue_timeout_ms` (the blueprint\'s rule)',
  'perf.mailbox_capacity': 'requests waiting per market at most; beyond → baseline `mailbox_full`',
  'perf.math_threads': 'Piscina threads for the math (0 = one per spare core)',
  'perf.math_inline_threshold': 'math batches smaller than this run on the main thread (see Performance)',
  'fallback.baseline_method': '`EWMA`, `KALMAN` or `ROLLING_QUANTILE`',
  'fallback.baseline_only_liquidity_bucket': 'requests in this liquidity bucket always get the baseline (case-insensitive)',
  'fallback.ewma_alpha': 'EWMA smoothing factor',
  'fallback.rolling_window': 'ROLLING_QUANTILE window (points)',
  'interval_sanity.min_width': 'narrowest outer band (lowest to highest quantile)',
  'interval_sanity.max_width': 'widest outer band (shrunk toward the median, skew kept)',
  'routing.default_route': '`tsfm` or `baseline` for requests no segment matches',
  'routing.enabled_segments': 'segments sent to the TSFM (Python service keys, e.g. `category=politics|liquidity_bucket=high`)',
  'routing.baseline_segments': 'segments always answered from the baseline (checked first)',
  'conformal.state_path': "conformal state file (the Python service's JSON, schema 1 or 2; relative to the working directory); null = `conformal_last_step` is null. Missing or invalid at start: a warning, no adjustment",
  'conformal.watch_interval_ms': 'check the state file for changes this often and reload it atomically (0 = only on SIGHUP); an invalid new file keeps the state in use',
  'conformal.online.enabled': 'learn the conformal adjustments from resolved outcomes (`POST /tsfm/outcomes`, `runner.observe`); off = the state file exactly as the Python service uses it',
  'conformal.online.target_coverage': 'coverage aimed at when no state file gives one (a file\'s adjustments carry their own)',
  'conformal.online.gamma': 'ACI step: how far the working miscoverage level moves per outcome',
  'conformal.online.window': 'outcomes per segment the shift and scale are fitted to',
  'conformal.online.min_samples': 'a segment keeps the file\'s adjustment until it has seen this many outcomes; at most `window`',
  'conformal.online.min_width_scale': 'lower bound of a learned width scale',
  'conformal.online.max_width_scale': 'upper bound of a learned width scale; at least `min_width_scale`',
  'conformal.online.max_center_shift': 'bound (±) of a learned centre shift',
  'conformal.online.max_pending': 'served bands remembered for matching outcomes, at most (the one nearest its expiry goes first)',
  'conformal.online.outcome_grace_s': 'a served band waits this long after it resolves (as_of_ts + horizon × freq) for its outcome',
  'conformal.online.persist_interval_s': 'write what was learned to `state_path` (temp file + rename) this often when it changed, and on drain',
  'server.host': 'listen address',
  'server.port': 'listen port (0 = any free port)',
  'server.api_token': 'token clients must send (`Authorization: Bearer` or `X-API-Key`); null = no auth',
  'server.api_tokens': 'more tokens accepted as `api_token` is (rotation: add the new one, move clients, drop the old); each client token gets its own rate-limit bucket',
  'server.metrics_token': 'a token that opens `GET /metrics` only (for a scraper); null = `/metrics` takes the API tokens',
  'server.trust_proxy': 'proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client, for per-client rate-limit buckets; [] = the peer address',
  'server.body_limit_bytes': 'larger bodies → 413',
  'server.headers_timeout_ms': 'a client must send its request headers within this long, else 408 and the connection is closed (0 = no limit)',
  'server.request_timeout_ms': 'a client must send its whole request (headers and body) within this long, else 408 and the connection is closed (0 = no limit); at least `headers_timeout_ms`',
  'server.admission_limit': 'requests in progress at most; beyond → 503 with Retry-After',
  'server.max_event_loop_delay_ms': 'shed load by event-loop lag: while the mean event-loop delay of the last second is over this, requests get 503 `TSFM_OVERLOADED` with Retry-After (health probes and `/metrics` exempt); 0 = off (@fastify/under-pressure)',
  'server.drain_delay_ms': 'SIGTERM/SIGINT: `/health/ready` answers 503 `draining` and requests are still served this long, so load balancers notice, before the listener closes; less than `drain_timeout_ms`',
  'server.drain_timeout_ms': 'SIGTERM/SIGINT: exit 1 after this long (counted from the signal, the drain delay included) even if requests remain',
  'server.cycle_max_requests': 'markets per `/tsfm/cycle` at most',
  'server.cycle_default_budget_ms': 'cycle budget when the body gives none',
  'server.rate_limit.enabled': 'per-identity token bucket (identity = token, else client IP)',
  'server.rate_limit.burst': 'bucket size',
  'server.rate_limit.refill_per_s': 'tokens added per second',
  'server.rate_limit.max_identities': 'identities tracked at most (LRU)',
  'logging.level': '`fatal` … `trace` or `silent`',
}

export interface KeyInfo {
  readonly path: string
  readonly default: unknown
  readonly accepts: string
  readonly description: string
  readonly env: readonly string[]
}

/** Every leaf key of the configuration, in DEFAULTS order. */
export function configKeys(): KeyInfo[] {
  const out: KeyInfo[] = []
  const walk = (defaults: Record<string, unknown>, schema: Record<string, unknown>, prefix: string): void => {
    for (const key of Object.keys(defaults)) {
      const path = prefix === '' ? key : `${prefix}.${key}`
      const node = schema[key]
      if (isRule(node)) {
        out.push({
          path,
          default: defaults[key],
          accepts: (node as Rule).expect,
          description: DESCRIPTIONS[path] ?? '',
          env: ENV_VARS.filter((v) => v.path === `tsfm.${path}`).map((v) => v.name),
        })
      } else walk(defaults[key] as Record<string, unknown>, node as Record<string, unknown>, path)
    }
  }
  walk(DEFAULTS as unknown as Record<string, unknown>, SCHEMA as unknown as Record<string, unknown>, '')
  return out
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

/** The README's configuration table (markdown). */
export function configReference(): string {
  const rows = configKeys().map(
    (k) => `| \`${k.path}\` | \`${cell(JSON.stringify(k.default))}\` | ${cell(k.accepts)} | ${cell(k.description)}${k.env.length > 0 ? ` (env ${k.env.map((e) => `\`${e}\``).join(', ')})` : ''} |`,
  )
  return ['| key (under `tsfm:`) | default | accepts | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

/** The README's environment variable table (markdown). */
export function envReference(): string {
  const rows = ENV_VARS.map((v) => `| \`${v.name}\` | ${v.path === null ? '—' : `\`${v.path.slice('tsfm.'.length)}\``} | ${cell(v.description)} |`)
  return ['| variable | key | meaning |', '|---|---|---|', ...rows].join('\n')
}

