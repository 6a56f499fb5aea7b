import { quote } from '../errors.js'
import { FREQ_MAX_MINUTES, freqMinutes } from '../request/freq.js'
import type { TsfmConfig } from './types.js'

/**
 * What each configuration key accepts: one rule per leaf of DEFAULTS, in a table of the same
 * shape (the mapped type below makes a missing or extra key a compile error). A rule checks one
 * value and knows how text from the environment or a CLI flag becomes a value.
 *
 * Every message reads `<key path> must be <what>, got <quoted value>` (SPEC §1), so an operator
 * can paste the key path straight into the YAML file.
 */

/**
 * Where a value is being checked: `path` is the key path shown to the operator, `source` says
 * where a value that did not come from a file came from (` (from TSFM_PORT)`), else ''.
 */
export interface Where {
  readonly path: string
  readonly source: string
}

export interface Problem {
  readonly path: string
  readonly message: string
}

export interface Rule {
  /** The phrase after "must be" in messages, also printed by the README's configuration table. */
  readonly expect: string
  /** null when `value` is acceptable. */
  readonly check: (value: unknown, where: Where) => Problem | null
  /**
   * Text (environment variable, CLI flag) → value. Text that does not parse is returned as it is,
   * so the validator quotes exactly what the operator wrote.
   */
  readonly fromText: (text: string) => unknown
}

export type Schema<T> = {
  readonly [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[] | string | number | boolean ? Rule : Schema<T[K]>
}

export function isRule(node: unknown): node is Rule {
  return typeof node === 'object' && node !== null && typeof (node as Rule).check === 'function'
}

function mustBe(where: Where, expect: string, value: unknown): Problem {
  return { path: where.path, message: `${where.path}${where.source} must be ${expect}, got ${quote(value)}` }
}

function simple(expect: string, test: (value: unknown) => boolean, fromText: (text: string) => unknown): Rule {
  return {
    expect,
    check: (value, where) => (test(value) ? null : mustBe(where, expect, value)),
    fromText,
  }
}

// Decimal numbers only (`8080`, `1.2`, `1e-6`): Number() would also take `0x1F`, `''` and ` 8 `.
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

function textToNumber(text: string): unknown {
  return NUMBER_TEXT.test(text) ? Number(text) : text
}

function textToBoolean(text: string): unknown {
  const t = text.toLowerCase()
  if (t === 'true' || t === '1' || t === 'yes') return true
  if (t === 'false' || t === '0' || t === 'no') return false
  return text
}

function textToList(text: string): string[] {
  return text === '' ? [] : text.split(',').map((s) => s.trim())
}

function identity(text: string): unknown {
  return text
}

interface NumberBounds {
  readonly min?: number
  readonly max?: number
  /** The bound itself is excluded: `(0, 1]` rather than `[0, 1]`. */
  readonly minExclusive?: boolean
  readonly maxExclusive?: boolean
  readonly integer?: boolean
}

function describeNumber(b: NumberBounds): string {
  const noun = b.integer === true ? 'integer' : 'number'
  const article = b.integer === true ? 'an' : 'a'
  if (b.max === undefined) {
    if (b.min === 0) return b.minExclusive === true ? `a positive ${noun}` : `a non-negative ${noun}`
    if (b.min === undefined) return `${article} finite ${noun}`
    return `${article} ${noun} ${b.minExclusive === true ? '>' : '>='} ${b.min}`
  }
  if (b.integer === true && b.minExclusive !== true && b.maxExclusive !== true) return `an integer in ${b.min ?? 0}..${b.max}`
  const open = b.minExclusive === true ? '(' : '['
  const close = b.maxExclusive === true ? ')' : ']'
  return `${article} ${noun} in ${open}${b.min ?? 0}, ${b.max}${close}`
}

function inBounds(value: unknown, b: NumberBounds): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false
  if (b.integer === true && !Number.isInteger(value)) return false
  if (b.min !== undefined && (b.minExclusive === true ? value <= b.min : value < b.min)) return false
  if (b.max !== undefined && (b.maxExclusive === true ? value >= b.max : value > b.max)) return false
  return true
}

export function num(bounds: NumberBounds): Rule {
  return simple(describeNumber(bounds), (v) => inBounds(v, bounds), textToNumber)
}

const positive = (): Rule => num({ min: 0, minExclusive: true })
const nonNegative = (): Rule => num({ min: 0 })
const positiveInt = (): Rule => num({ min: 0, minExclusive: true, integer: true })
const nonNegativeInt = (): Rule => num({ min: 0, integer: true })
/** A share of requests: (0, 1]. */
const rate = (): Rule => num({ min: 0, max: 1, minExclusive: true })

export function bool(): Rule {
  return simple('true or false', (v) => typeof v === 'boolean', textToBoolean)
}

export function nonEmptyString(): Rule {
  return simple('a non-empty string', (v) => typeof v === 'string' && v.trim() !== '', identity)
}

export function anyString(): Rule {
  return simple('a string', (v) => typeof v === 'string', identity)
}

/** A file path, or null for none (`null`/`none`/empty in the environment). */
export function nullablePath(): Rule {
  return simple(
    'null or a non-empty path',
    (v) => v === null || (typeof v === 'string' && v.trim() !== '' && !v.includes('\0')),
    (text) => (text === '' || text.toLowerCase() === 'null' || text.toLowerCase() === 'none' ? null : text),
  )
}

export function oneOf(values: readonly string[]): Rule {
  return simple(`one of ${values.map((v) => quote(v)).join(', ')}`, (v) => typeof v === 'string' && values.includes(v), identity)
}

export function stringList(): Rule {
  return simple(
    'a list of non-empty strings',
    (v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.trim() !== ''),
    textToList,
  )
}

export function freq(): Rule {
  // The same words as the request validator's freqError (src/request/freq.ts), so an operator
  // meets one definition of freq whether it comes from the config or a request.
  return simple(
    `a frequency like "5m" or "1h" (n >= 1, lowercase, at most ${FREQ_MAX_MINUTES} minutes)`,
    (v) => freqMinutes(v) > 0,
    identity,
  )
}

export function httpUrl(): Rule {
  return simple('an http(s) URL like "http://127.0.0.1:11435"', isHttpUrl, identity)
}

/**
 * One tollama URL, or a list of them (several replicas, each × model its own lane); from text, a
 * comma-separated list (`TSFM_TOLLAMA_URL=http://a:11435,http://b:11435`). A list holds 1 to 16
 * unique URLs.
 */
export function httpUrls(): Rule {
  const expect = 'an http(s) URL like "http://127.0.0.1:11435", or a list of 1 to 16 unique ones'
  return simple(
    expect,
    (value) =>
      isHttpUrl(value) ||
      (Array.isArray(value) && value.length >= 1 && value.length <= 16 && value.every(isHttpUrl) && new Set(value).size === value.length),
    (text) => (text.includes(',') ? textToList(text) : text),
  )
}

function isHttpUrl(value: unknown): boolean {
  return isUrlOf(value, ['http:', 'https:'])
}

/** A parseable URL with a host and one of `protocols` (`'http:'` …). */
function isUrlOf(value: unknown, protocols: readonly string[]): boolean {
  if (typeof value !== 'string') return false
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  return protocols.includes(url.protocol) && url.hostname !== ''
}

/** A `redis://` or `rediss://` URL, or null for no L2 (`null`/`none`/empty in the environment). */
export function redisUrl(): Rule {
  return simple('null or a redis URL like "redis://127.0.0.1:6379"', (v) => v === null || isRedisUrl(v), (text) =>
    text === '' || text.toLowerCase() === 'null' || text.toLowerCase() === 'none' ? null : text,
  )
}

function isRedisUrl(value: unknown): boolean {
  return isUrlOf(value, ['redis:', 'rediss:'])
}

/** `adaptive`, or a number of milliseconds ≥ 0 (0 = no hedging). */
export function hedgeAfter(): Rule {
  return simple(
    '"adaptive" or a number of milliseconds >= 0',
    (value) => value === 'adaptive' || (typeof value === 'number' && Number.isFinite(value) && value >= 0),
    (text) => (text === 'adaptive' ? text : textToNumber(text)),
  )
}

export const QUANTILES_MAX = 20

/** 1..20 numbers in (0, 1), ascending, no duplicates (the request's own limits, SPEC §2.1). */
export function quantiles(): Rule {
  const expect = `a list of 1 to ${QUANTILES_MAX} numbers in (0, 1)`
  return {
    expect,
    check(value, where) {
      if (!Array.isArray(value) || value.length < 1 || value.length > QUANTILES_MAX) return mustBe(where, expect, value)
      for (let i = 0; i < value.length; i++) {
        const q: unknown = value[i]
        if (typeof q !== 'number' || !(q > 0 && q < 1)) {
          return mustBe({ path: `${where.path}[${i}]`, source: where.source }, 'a number in (0, 1)', q)
        }
        if (i > 0 && q <= (value[i - 1] as number)) {
          return mustBe(where, 'in ascending order without duplicates', value)
        }
      }
      return null
    },
    fromText: (text) => textToList(text).map(textToNumber),
  }
}

/**
 * Values people leave in a config by mistake. A token that matches one is refused at start-up:
 * a daemon "protected" by `changeme` is worse than one with auth visibly off (null).
 */
const PLACEHOLDERS = new Set([
  'changeme', 'change-me', 'change_me', 'replaceme', 'replace-me', 'replace_me', 'secret', 'token', 'xxx',
  'password', 'placeholder', 'todo', 'example', 'test', 'dummy', 'none', 'null', 'your-token', 'your_token',
  'yourtoken', 'api-token', 'api_token', 'apitoken', 'api-key', 'api_key', 'apikey', '***',
])
const PLACEHOLDER_PARTS = ['changeme', 'change-me', 'change_me', 'replaceme', 'replace-me', 'replace_me', 'placeholder', 'your-token', 'your_token']
export const TOKEN_MIN_LENGTH = 16

export function isPlaceholderToken(token: string): boolean {
  const t = token.trim().toLowerCase()
  if (PLACEHOLDERS.has(t)) return true
  if (PLACEHOLDER_PARTS.some((p) => t.includes(p))) return true
  if (/^<.*>$/.test(t)) return true // `<token>`, `<your token here>`
  if (/^\$\{?\w+\}?$/.test(t)) return true // an unexpanded `${TOKEN}` / `$TOKEN`
  return t.length > 0 && t.split('').every((c) => c === t[0]) // `xxxxxxxxxxxxxxxx`
}

/** A bearer token, or null for none. */
export function token(): Rule {
  const expect = `null or a token of at least ${TOKEN_MIN_LENGTH} characters`
  return {
    expect,
    check(value, where) {
      if (value === null) return null
      if (typeof value !== 'string') return mustBe(where, expect, value)
      if (isPlaceholderToken(value)) return mustBe(where, 'a real token, not a placeholder', value)
      if (value.length < TOKEN_MIN_LENGTH) {
        // Not quoted: a short token may still be someone's real (weak) secret, and this message
        // ends up in logs. Its length is enough to act on.
        return {
          path: where.path,
          message: `${where.path}${where.source} must be ${expect}, got a string of ${value.length} characters`,
        }
      }
      return null
    },
    fromText: identity,
  }
}

/** Several bearer tokens (rotation: old and new at once); each checked as `token()` is. */
export function tokenList(): Rule {
  const one = token()
  return {
    expect: 'a list of tokens',
    check(value, where) {
      if (!Array.isArray(value)) return mustBe(where, 'a list of tokens', value)
      for (let i = 0; i < value.length; i++) {
        if (value[i] === null) return mustBe({ ...where, path: `${where.path}[${i}]` }, 'a token', null)
        const p = one.check(value[i], { ...where, path: `${where.path}[${i}]` })
        if (p !== null) return p
      }
      return null
    },
    fromText: textToList,
  }
}

/** Proxy addresses or CIDR ranges whose X-Forwarded-For is believed. */
function addressList(): Rule {
  return simple(
    'a list of IP addresses or CIDR ranges, e.g. ["127.0.0.1", "10.0.0.0/8"]',
    (v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s)),
    textToList,
  )
}

export const SCHEMA: Schema<TsfmConfig> = {
  freq: freq(),
  input_len_steps: num({ min: 1, max: 20_000, integer: true }),
  horizon_steps: num({ min: 1, max: 1000, integer: true }),
  quantiles: quantiles(),
  transform: { space: oneOf(['logit', 'identity']), eps: num({ min: 0, max: 0.01, minExclusive: true }) },
  missing: { max_gap_minutes: nonNegative(), min_points_for_tsfm: nonNegativeInt() },
  adapter: {
    base_url: httpUrls(),
    model: nonEmptyString(),
    api_token: token(),
    timeout_s: positive(),
    retry_count: num({ min: 0, max: 10, integer: true }),
    retry_backoff_ms: nonNegative(),
    retry_jitter_ms: nonNegative(),
    retry_envelope_ms: nonNegative(),
    postprocess_budget_ms: nonNegative(),
    deadline_budget_ms: positive(),
    max_connections: positiveInt(),
    max_keepalive_connections: nonNegativeInt(),
    keepalive_timeout_ms: positive(),
    batch_window_ms: nonNegative(),
    batch_max_series: positiveInt(),
    lane: {
      initial_inflight: positiveInt(),
      min_inflight: positiveInt(),
      max_lanes: positiveInt(),
      cost_fixed_ms: nonNegative(),
      cost_per_series_ms: nonNegative(),
    },
    health_interval_s: nonNegative(),
    hedge_after_ms: hedgeAfter(),
    warmup: { enabled: bool(), models: stringList(), interval_s: positive() },
  },
  cache: {
    ttl_s: positive(),
    max_entries: positiveInt(),
    stale_while_revalidate_s: nonNegative(),
    stale_if_error_s: nonNegative(),
    l2: { url: redisUrl(), key_prefix: anyString(), command_timeout_ms: num({ min: 0, max: 1000, minExclusive: true }), lease_ms: num({ min: 1, max: 60_000, integer: true }) },
  },
  circuit_breaker: {
    failures_to_open: positiveInt(),
    failure_rate_to_open: rate(),
    window_s: positive(),
    min_requests: positiveInt(),
    cooldown_s: positive(),
    cooldown_multiplier: num({ min: 1 }),
    max_cooldown_s: positive(),
    cooldown_jitter: num({ min: 0, max: 1, maxExclusive: true }),
    half_open_probes: positiveInt(),
  },
  degradation: {
    enabled: bool(),
    min_requests: positiveInt(),
    degraded_enter_failure_rate: rate(),
    degraded_enter_window_s: positive(),
    baseline_only_enter_failure_rate: rate(),
    baseline_only_enter_window_s: positive(),
    fast_trip_failure_rate: rate(),
    fast_trip_window_s: positive(),
    baseline_only_exit_failure_rate: rate(),
    baseline_only_exit_window_s: positive(),
    degraded_exit_failure_rate: rate(),
    degraded_exit_window_s: positive(),
    degraded_timeout_ms: positive(),
    probe_interval_s: positive(),
    probe_every_n_requests: positiveInt(),
  },
  perf: {
    worker_concurrency: positiveInt(),
    per_market_inflight_limit: positiveInt(),
    queue_timeout_ms: positive(),
    queue_policy: oneOf(['predicted', 'fixed']),
    mailbox_capacity: positiveInt(),
    math_threads: nonNegativeInt(),
    math_inline_threshold: nonNegativeInt(),
  },
  fallback: {
    baseline_method: oneOf(['EWMA', 'KALMAN', 'ROLLING_QUANTILE']),
    baseline_only_liquidity_bucket: anyString(),
    ewma_alpha: rate(),
    rolling_window: num({ min: 2, integer: true }),
  },
  interval_sanity: { min_width: num({ min: 0, max: 1 }), max_width: rate() },
  routing: { default_route: oneOf(['tsfm', 'baseline']), enabled_segments: stringList(), baseline_segments: stringList() },
  conformal: {
    state_path: nullablePath(),
    watch_interval_ms: nonNegativeInt(),
    online: {
      enabled: bool(),
      target_coverage: num({ min: 0, max: 1, minExclusive: true, maxExclusive: true }),
      gamma: num({ min: 0, max: 1, minExclusive: true, maxExclusive: true }),
      window: num({ min: 2, max: 100_000, integer: true }),
      min_samples: positiveInt(),
      min_width_scale: nonNegative(),
      max_width_scale: positive(),
      max_center_shift: nonNegative(),
      // Slots are allocated up front (~90 B each): a typo's 1e9 should be an error, not an OOM.
      max_pending: num({ min: 1, max: 5_000_000, integer: true }),
      outcome_grace_s: num({ min: 0, max: 7 * 86_400 }),
      // A timer longer than ~24.8 days overflows setTimeout (Node then fires it after 1 ms).
      persist_interval_s: num({ min: 0, max: 86_400, minExclusive: true }),
    },
  },
  server: {
    host: nonEmptyString(),
    port: num({ min: 0, max: 65_535, integer: true }),
    api_token: token(),
    api_tokens: tokenList(),
    metrics_token: token(),
    trust_proxy: addressList(),
    body_limit_bytes: positiveInt(),
    headers_timeout_ms: nonNegativeInt(),
    request_timeout_ms: nonNegativeInt(),
    admission_limit: positiveInt(),
    // The plugin samples once a second: a threshold past a minute could never be reached.
    max_event_loop_delay_ms: num({ min: 0, max: 60_000 }),
    drain_delay_ms: nonNegative(),
    drain_timeout_ms: nonNegative(),
    cycle_max_requests: positiveInt(),
    cycle_default_budget_ms: positive(),
    rate_limit: { enabled: bool(), burst: positiveInt(), refill_per_s: positive(), max_identities: positiveInt() },
  },
  logging: { level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) },
}

/** The schema node (rule or section) at `segments` under `tsfm`, or undefined. */
export function schemaAt(segments: readonly string[]): Rule | Record<string, unknown> | undefined {
  let node: unknown = SCHEMA
  for (const s of segments) {
    if (isRule(node) || typeof node !== 'object' || node === null || !Object.hasOwn(node, s)) return undefined
    node = (node as Record<string, unknown>)[s]
  }
  return node as Rule | Record<string, unknown>
}
