/**
 * Wire bodies of `POST /tsfm/forecast` as a trading client sends them: one day of 5-minute
 * history (288 points, the default `input_len_steps`) with its timestamps, the default horizon
 * and quantiles, segment labels. Shared by the HTTP and embedded hot-path benchmarks so that
 * every number in them is about the same payload (~13 KB of JSON).
 */

/** 2026-02-20T00:00:00Z, the SPEC's example `as_of_ts`. */
const BASE_MS = Date.UTC(2026, 1, 20)
const STEP_MS = 300_000

export interface BodyOptions {
  /** Points of history (default 288). */
  readonly points?: number
  /** `liquidity_bucket` (default `high`; `low` is the default baseline-only bucket). */
  readonly liquidity?: string
  /** Shifts `as_of_ts` by whole steps, so one market can have many distinct cache keys. */
  readonly shift?: number
}

/** The body of market `m-<n>`, as a plain object (what JSON.parse of it gives). */
export function forecastBody(n: number, opts: BodyOptions = {}): Record<string, unknown> {
  const points = opts.points ?? 288
  const end = BASE_MS + (opts.shift ?? 0) * STEP_MS
  const y: number[] = new Array<number>(points)
  const yTs: string[] = new Array<string>(points)
  for (let i = 0; i < points; i++) {
    // Prices with the irregular decimals real quotes have (not short round numbers).
    y[i] = 0.5 + 0.35 * Math.sin((i + 13 * n) / 17) * Math.cos(i / 41)
    yTs[i] = `${new Date(end - (points - 1 - i) * STEP_MS).toISOString().slice(0, 19)}Z`
  }
  return {
    market_id: `m-${n}`,
    as_of_ts: yTs[points - 1],
    freq: '5m',
    horizon_steps: 12,
    quantiles: [0.1, 0.5, 0.9],
    y,
    y_ts: yTs,
    liquidity_bucket: opts.liquidity ?? 'high',
    category: 'politics',
  }
}

/** `forecastBody` as the JSON text a client sends. */
export function forecastBodyText(n: number, opts: BodyOptions = {}): string {
  return JSON.stringify(forecastBody(n, opts))
}
