import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config/index.js'
import type { ConfigInput } from '../../../src/config/index.js'
import { isTsfmError } from '../../../src/errors.js'
import { thrown } from '../../helpers/thrown.js'

/** Resolve a `tsfm:` body given loosely, as a YAML file would deliver it. */
function resolve(tsfm: unknown): ReturnType<typeof resolveConfig> {
  return resolveConfig({ tsfm } as ConfigInput)
}

interface Case {
  readonly name: string
  readonly tsfm: unknown
  readonly path: string
  readonly message: string
}

const CASES: readonly Case[] = [
  // SPEC §1's own example.
  { name: 'a cache TTL that is not a number', tsfm: { cache: { ttl_s: 'abc' } }, path: 'tsfm.cache.ttl_s', message: 'tsfm.cache.ttl_s must be a positive number, got "abc"' },
  { name: 'a zero cache TTL', tsfm: { cache: { ttl_s: 0 } }, path: 'tsfm.cache.ttl_s', message: 'tsfm.cache.ttl_s must be a positive number, got 0' },
  { name: 'an L2 URL that is not redis://', tsfm: { cache: { l2: { url: 'http://127.0.0.1:6379' } } }, path: 'tsfm.cache.l2.url', message: 'tsfm.cache.l2.url must be null or a redis URL like "redis://127.0.0.1:6379", got "http://127.0.0.1:6379"' },
  { name: 'a zero L2 command timeout', tsfm: { cache: { l2: { command_timeout_ms: 0 } } }, path: 'tsfm.cache.l2.command_timeout_ms', message: 'tsfm.cache.l2.command_timeout_ms must be a number in (0, 1000], got 0' },
  { name: 'a fractional L2 lease', tsfm: { cache: { l2: { lease_ms: 2.5 } } }, path: 'tsfm.cache.l2.lease_ms', message: 'tsfm.cache.l2.lease_ms must be an integer in 1..60000, got 2.5' },
  { name: 'a numeric string (YAML types are kept)', tsfm: { cache: { max_entries: '100' } }, path: 'tsfm.cache.max_entries', message: 'tsfm.cache.max_entries must be a positive integer, got "100"' },
  { name: 'a fractional entry count', tsfm: { cache: { max_entries: 10.5 } }, path: 'tsfm.cache.max_entries', message: 'tsfm.cache.max_entries must be a positive integer, got 10.5' },
  { name: 'an empty (null) key', tsfm: { cache: { ttl_s: null } }, path: 'tsfm.cache.ttl_s', message: 'tsfm.cache.ttl_s must be a positive number, got null' },
  { name: 'an infinite timeout (YAML .inf)', tsfm: { adapter: { timeout_s: Infinity } }, path: 'tsfm.adapter.timeout_s', message: 'tsfm.adapter.timeout_s must be a positive number, got Infinity' },
  { name: 'a negative event-loop delay limit', tsfm: { server: { max_event_loop_delay_ms: -1 } }, path: 'tsfm.server.max_event_loop_delay_ms', message: 'tsfm.server.max_event_loop_delay_ms must be a number in [0, 60000], got -1' },
  { name: 'an event-loop delay limit past a minute', tsfm: { server: { max_event_loop_delay_ms: 60_001 } }, path: 'tsfm.server.max_event_loop_delay_ms', message: 'tsfm.server.max_event_loop_delay_ms must be a number in [0, 60000], got 60001' },
  { name: 'a negative stale window', tsfm: { cache: { stale_if_error_s: -1 } }, path: 'tsfm.cache.stale_if_error_s', message: 'tsfm.cache.stale_if_error_s must be a non-negative number, got -1' },
  {
    name: 'a freq in pandas notation',
    tsfm: { freq: '5min' },
    path: 'tsfm.freq',
    message: 'tsfm.freq must be a frequency like "5m" or "1h" (n >= 1, lowercase, at most 10080 minutes), got "5min"',
  },
  {
    name: 'a zero freq',
    tsfm: { freq: '0m' },
    path: 'tsfm.freq',
    message: 'tsfm.freq must be a frequency like "5m" or "1h" (n >= 1, lowercase, at most 10080 minutes), got "0m"',
  },
  { name: 'a horizon above 1000', tsfm: { horizon_steps: 1001 }, path: 'tsfm.horizon_steps', message: 'tsfm.horizon_steps must be an integer in 1..1000, got 1001' },
  { name: 'no quantiles', tsfm: { quantiles: [] }, path: 'tsfm.quantiles', message: 'tsfm.quantiles must be a list of 1 to 20 numbers in (0, 1), got []' },
  { name: 'a quantile of 1', tsfm: { quantiles: [0.1, 1] }, path: 'tsfm.quantiles[1]', message: 'tsfm.quantiles[1] must be a number in (0, 1), got 1' },
  { name: 'a quantile as a string', tsfm: { quantiles: ['0.5'] }, path: 'tsfm.quantiles[0]', message: 'tsfm.quantiles[0] must be a number in (0, 1), got "0.5"' },
  {
    name: 'duplicate quantiles',
    tsfm: { quantiles: [0.1, 0.5, 0.5] },
    path: 'tsfm.quantiles',
    message: 'tsfm.quantiles must be in ascending order without duplicates, got [0.1,0.5,0.5]',
  },
  { name: 'unsorted quantiles', tsfm: { quantiles: [0.9, 0.1] }, path: 'tsfm.quantiles', message: 'tsfm.quantiles must be in ascending order without duplicates, got [0.9,0.1]' },
  { name: 'an unknown transform space', tsfm: { transform: { space: 'log' } }, path: 'tsfm.transform.space', message: 'tsfm.transform.space must be one of "logit", "identity", got "log"' },
  { name: 'an eps above 0.01', tsfm: { transform: { eps: 0.1 } }, path: 'tsfm.transform.eps', message: 'tsfm.transform.eps must be a number in (0, 0.01], got 0.1' },
  {
    name: 'a base_url without a scheme',
    tsfm: { adapter: { base_url: 'localhost:11435' } },
    path: 'tsfm.adapter.base_url',
    message: 'tsfm.adapter.base_url must be an http(s) URL like "http://127.0.0.1:11435", or a list of 1 to 16 unique ones, got "localhost:11435"',
  },
  {
    name: 'a base_url that is not http',
    tsfm: { adapter: { base_url: 'ftp://127.0.0.1/' } },
    path: 'tsfm.adapter.base_url',
    message: 'tsfm.adapter.base_url must be an http(s) URL like "http://127.0.0.1:11435", or a list of 1 to 16 unique ones, got "ftp://127.0.0.1/"',
  },
  { name: 'an empty model name', tsfm: { adapter: { model: ' ' } }, path: 'tsfm.adapter.model', message: 'tsfm.adapter.model must be a non-empty string, got " "' },
  { name: 'too many retries', tsfm: { adapter: { retry_count: 11 } }, path: 'tsfm.adapter.retry_count', message: 'tsfm.adapter.retry_count must be an integer in 0..10, got 11' },
  {
    name: 'an unknown baseline method (SPEC §6: rejected at start-up)',
    tsfm: { fallback: { baseline_method: 'ARIMA' } },
    path: 'tsfm.fallback.baseline_method',
    message: 'tsfm.fallback.baseline_method must be one of "EWMA", "KALMAN", "ROLLING_QUANTILE", got "ARIMA"',
  },
  { name: 'an EWMA alpha of 0', tsfm: { fallback: { ewma_alpha: 0 } }, path: 'tsfm.fallback.ewma_alpha', message: 'tsfm.fallback.ewma_alpha must be a number in (0, 1], got 0' },
  { name: 'a port above 65535', tsfm: { server: { port: 65_536 } }, path: 'tsfm.server.port', message: 'tsfm.server.port must be an integer in 0..65535, got 65536' },
  { name: 'a negative port', tsfm: { server: { port: -1 } }, path: 'tsfm.server.port', message: 'tsfm.server.port must be an integer in 0..65535, got -1' },
  { name: 'a failure rate above 1', tsfm: { circuit_breaker: { failure_rate_to_open: 1.5 } }, path: 'tsfm.circuit_breaker.failure_rate_to_open', message: 'tsfm.circuit_breaker.failure_rate_to_open must be a number in (0, 1], got 1.5' },
  { name: 'a cooldown multiplier below 1', tsfm: { circuit_breaker: { cooldown_multiplier: 0.5 } }, path: 'tsfm.circuit_breaker.cooldown_multiplier', message: 'tsfm.circuit_breaker.cooldown_multiplier must be a number >= 1, got 0.5' },
  { name: 'a jitter of 100 %', tsfm: { circuit_breaker: { cooldown_jitter: 1 } }, path: 'tsfm.circuit_breaker.cooldown_jitter', message: 'tsfm.circuit_breaker.cooldown_jitter must be a number in [0, 1), got 1' },
  { name: 'a YAML 1.1 boolean', tsfm: { degradation: { enabled: 'yes' } }, path: 'tsfm.degradation.enabled', message: 'tsfm.degradation.enabled must be true or false, got "yes"' },
  {
    name: 'segments as one string',
    tsfm: { routing: { baseline_segments: 'sports,politics' } },
    path: 'tsfm.routing.baseline_segments',
    message: 'tsfm.routing.baseline_segments must be a list of non-empty strings, got "sports,politics"',
  },
  { name: 'an unknown route', tsfm: { routing: { default_route: 'tollama' } }, path: 'tsfm.routing.default_route', message: 'tsfm.routing.default_route must be one of "tsfm", "baseline", got "tollama"' },
  {
    name: 'an unknown log level',
    tsfm: { logging: { level: 'verbose' } },
    path: 'tsfm.logging.level',
    message: 'tsfm.logging.level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose"',
  },
  { name: 'a rolling window of 1', tsfm: { fallback: { rolling_window: 1 } }, path: 'tsfm.fallback.rolling_window', message: 'tsfm.fallback.rolling_window must be an integer >= 2, got 1' },
  { name: 'a section given as a scalar', tsfm: { cache: 60 }, path: 'tsfm.cache', message: 'tsfm.cache must be a mapping of settings, got 60' },
  { name: 'tsfm given as a list', tsfm: [1, 2], path: 'tsfm', message: 'tsfm must be a mapping of settings, got [1,2]' },
  // Cross-field rules.
  {
    name: 'a minimum width not below the maximum',
    tsfm: { interval_sanity: { min_width: 0.3, max_width: 0.3 } },
    path: 'tsfm.interval_sanity.min_width',
    message: 'tsfm.interval_sanity.min_width must be less than tsfm.interval_sanity.max_width (0.3), got 0.3',
  },
  {
    name: 'a recovery window too short to hold min_requests probes',
    tsfm: { degradation: { probe_interval_s: 30 } },
    path: 'tsfm.degradation.baseline_only_exit_window_s',
    message: 'tsfm.degradation.baseline_only_exit_window_s must hold at least tsfm.degradation.min_requests (10) probes of tsfm.degradation.probe_interval_s (30 s), got 120',
  },
  {
    name: 'more keep-alive connections than connections',
    tsfm: { adapter: { max_connections: 10 } },
    path: 'tsfm.adapter.max_keepalive_connections',
    message: 'tsfm.adapter.max_keepalive_connections must be at most tsfm.adapter.max_connections (10), got 50',
  },
  {
    name: 'a cooldown cap below the cooldown',
    tsfm: { circuit_breaker: { max_cooldown_s: 60 } },
    path: 'tsfm.circuit_breaker.max_cooldown_s',
    message: 'tsfm.circuit_breaker.max_cooldown_s must be at least tsfm.circuit_breaker.cooldown_s (120), got 60',
  },
  {
    name: 'a degraded exit rate not below its entry rate (no hysteresis)',
    tsfm: { degradation: { degraded_exit_failure_rate: 0.25 } },
    path: 'tsfm.degradation.degraded_exit_failure_rate',
    message: 'tsfm.degradation.degraded_exit_failure_rate must be less than tsfm.degradation.degraded_enter_failure_rate (0.25), got 0.25',
  },
  {
    name: 'a baseline-only exit rate above its entry rate',
    tsfm: { degradation: { baseline_only_exit_failure_rate: 0.6 } },
    path: 'tsfm.degradation.baseline_only_exit_failure_rate',
    message: 'tsfm.degradation.baseline_only_exit_failure_rate must be less than tsfm.degradation.baseline_only_enter_failure_rate (0.5), got 0.6',
  },
  {
    name: 'a header time limit longer than the whole-request limit (Node refuses it)',
    tsfm: { server: { request_timeout_ms: 5000 } },
    path: 'tsfm.server.headers_timeout_ms',
    message: 'tsfm.server.headers_timeout_ms must be at most tsfm.server.request_timeout_ms (5000), got 10000',
  },
  {
    name: 'a drain delay that leaves no time to drain',
    tsfm: { server: { drain_timeout_ms: 1000 } },
    path: 'tsfm.server.drain_delay_ms',
    message: 'tsfm.server.drain_delay_ms must be less than tsfm.server.drain_timeout_ms (1000), got 1000',
  },
]

describe('validation', () => {
  it.each(CASES)('rejects $name with an exact message and key path', ({ tsfm, path, message }) => {
    const err = thrown(() => resolve(tsfm))
    expect(err.code).toBe('TSFM_CONFIG_INVALID')
    expect(err.path).toBe(path)
    expect(err.message).toBe(message)
  })

  it('accepts the edges of each range', () => {
    const c = resolve({
      freq: '10080m',
      horizon_steps: 1000,
      quantiles: [0.05, 0.95],
      transform: { space: 'identity', eps: 0.01 },
      adapter: { base_url: 'https://tollama.internal:8443/prefix', retry_count: 0 },
      server: { port: 0 },
      circuit_breaker: { failure_rate_to_open: 1, cooldown_jitter: 0 },
      interval_sanity: { min_width: 0, max_width: 1 },
    }).config
    expect(c.freq).toBe('10080m')
    expect(c.quantiles).toEqual([0.05, 0.95])
    expect(c.server.port).toBe(0)
    expect(c.adapter.base_url).toBe('https://tollama.internal:8443/prefix')
  })

  it('lets 0 switch off a client time limit and the drain delay', () => {
    const c = resolve({ server: { headers_timeout_ms: 0, request_timeout_ms: 0, drain_delay_ms: 0, drain_timeout_ms: 0 } }).config
    expect([c.server.headers_timeout_ms, c.server.request_timeout_ms, c.server.drain_delay_ms]).toEqual([0, 0, 0])
    expect(resolve({ server: { headers_timeout_ms: 60_000, request_timeout_ms: 0 } }).config.server.headers_timeout_ms).toBe(60_000)
  })

  it('keeps event-loop shedding off unless a delay limit is given', () => {
    expect(resolve({}).config.server.max_event_loop_delay_ms).toBe(0)
    expect(resolve({ server: { max_event_loop_delay_ms: 250 } }).config.server.max_event_loop_delay_ms).toBe(250)
  })

  it('reports every error at once, one per line, with the first path in .path', () => {
    const err = thrown(() =>
      resolve({ quantiles: [0.5, 0.1], cache: { ttl_s: 'abc' }, server: { port: 70_000 }, fallback: { baseline_method: 'ewma' } }),
    )
    expect(err.code).toBe('TSFM_CONFIG_INVALID')
    expect(err.path).toBe('tsfm.quantiles')
    expect(err.message.split('\n')).toEqual([
      'tsfm.quantiles must be in ascending order without duplicates, got [0.5,0.1]',
      'tsfm.cache.ttl_s must be a positive number, got "abc"',
      'tsfm.fallback.baseline_method must be one of "EWMA", "KALMAN", "ROLLING_QUANTILE", got "ewma"',
      'tsfm.server.port must be an integer in 0..65535, got 70000',
    ])
  })

  it('skips a cross-field rule when one side is already invalid', () => {
    const err = thrown(() => resolve({ interval_sanity: { min_width: 0.5, max_width: 'wide' } }))
    expect(err.message).toBe('tsfm.interval_sanity.max_width must be a number in (0, 1], got "wide"')
  })

  it('cuts a huge bad value to 80 characters in the message', () => {
    const err = thrown(() => resolve({ adapter: { model: 42, base_url: 'y'.repeat(10_000) } }))
    const lines = err.message.split('\n')
    expect(lines[0]).toBe(`tsfm.adapter.base_url must be an http(s) URL like "http://127.0.0.1:11435", or a list of 1 to 16 unique ones, got "${'y'.repeat(76)}...`)
    expect(lines[1]).toBe('tsfm.adapter.model must be a non-empty string, got 42')
  })

  it('refuses a config that is not an object at all', () => {
    const err = thrown(() => resolveConfig(5 as unknown as ConfigInput))
    expect(err.code).toBe('TSFM_CONFIG_INVALID')
    expect(err.message).toBe('config must be an object like { tsfm: {...} }, got 5')
  })

  it('never throws anything but a config TsfmError, whatever the input', () => {
    const json = fc.jsonValue({ maxDepth: 4 })
    const sectionish = fc.dictionary(fc.constantFrom('ttl_s', 'port', 'quantiles', 'base_url', 'window_s', 'failures', '__proto__', 'x'), json)
    const tsfm = fc.dictionary(fc.constantFrom('cache', 'server', 'quantiles', 'adapter', 'circuit_breaker', 'degradation', 'conformal', 'freq', 'y'), fc.oneof(json, sectionish))
    fc.assert(
      fc.property(fc.oneof(json, tsfm), (body) => {
        try {
          const loaded = resolve(body)
          expect(Object.isFrozen(loaded.config)).toBe(true)
        } catch (e) {
          expect(isTsfmError(e) && (e.code === 'TSFM_CONFIG_INVALID' || e.code === 'TSFM_CONFIG_UNKNOWN_KEY')).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })
})
