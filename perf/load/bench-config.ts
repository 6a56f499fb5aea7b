import type { ConfigInput, DeepPartial, TsfmConfig } from '../../src/config/types.js'

/**
 * The daemon configuration of the load benchmarks: the stock v1.0 profile, pointed at the
 * simulator, with what would distort a load test switched off — the per-client rate limiter (one
 * client sends everything here), the periodic health probe (0: the mode machine presumes it
 * green) — and logging at info (one line at start, nothing per request; `listening` is needed).
 * Each benchmark states its own overrides on top.
 */
export function benchConfig(upstreamUrl: string, overrides: DeepPartial<TsfmConfig> = {}): ConfigInput {
  const base: DeepPartial<TsfmConfig> = {
    adapter: { base_url: upstreamUrl, health_interval_s: 0 },
    server: { host: '127.0.0.1', port: 0, rate_limit: { enabled: false } },
    logging: { level: 'info' },
  }
  return { tsfm: merge(base as Record<string, unknown>, overrides as Record<string, unknown>) as DeepPartial<TsfmConfig> }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Key-by-key merge (later wins); arrays are replaced, not merged. */
export function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k]
    out[k] = isObject(v) && isObject(prev) ? merge(prev, v) : v
  }
  return out
}
