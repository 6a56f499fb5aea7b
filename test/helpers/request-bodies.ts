import { DEFAULTS } from '../../src/config/defaults.js'
import { defaultsFromConfig } from '../../src/request/validate.js'

/** Request defaults of the stock config (freq 5m, horizon 12, quantiles 0.1/0.5/0.9, logit 1e-6, chronos2). */
export const STOCK_DEFAULTS = defaultsFromConfig(DEFAULTS)

/** 2026-02-20T00:00:00Z. */
export const AS_OF_MS = Date.UTC(2026, 1, 20)

/** `n` probabilities in (0, 1), deterministic. */
export function probabilities(n: number): number[] {
  const y: number[] = []
  for (let i = 0; i < n; i++) y.push(0.5 + 0.4 * Math.sin(i / 7))
  return y
}

/** `n` ISO timestamps 5 minutes apart, the last one at `AS_OF_MS` (zoned with `Z` unless told). */
export function fiveMinuteStamps(n: number, zone = 'Z'): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const iso = new Date(AS_OF_MS - (n - 1 - i) * 300_000).toISOString().slice(0, 19)
    out.push(iso + zone)
  }
  return out
}

/** The smallest valid body: only the required fields. */
export function minimalBody(n = 8): Record<string, unknown> {
  return { market_id: 'm-1', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(n) }
}

/** A body with every documented field set (covariates `volume`, horizon 12). */
export function fullBody(n = 8): Record<string, unknown> {
  return {
    market_id: 'm-1',
    as_of_ts: '2026-02-20T00:00:00Z',
    freq: '5m',
    horizon_steps: 12,
    quantiles: [0.9, 0.1, 0.5],
    y: probabilities(n),
    y_ts: fiveMinuteStamps(n),
    max_gap_minutes: 5,
    x_past: { volume: probabilities(n) },
    x_future: { volume: probabilities(12) },
    transform: { space: 'logit', eps: 1e-6 },
    model: { provider: 'tollama', model_name: 'chronos2', model_version: 'v1', params: { num_samples: 20 } },
    liquidity_bucket: 'high',
    category: 'politics',
    tte_bucket: '1-7d',
    rollout_stage: 'canary',
  }
}
