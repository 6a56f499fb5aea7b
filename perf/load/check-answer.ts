/**
 * Every answer of a load run is checked, not just counted: an HTTP 200 is a success only if it is
 * a well-formed forecast from the upstream. A 200 that fell back to the baseline is a fallback
 * (with its reason), never a success; a 200 that breaks the contract (SPEC §2.1: `meta.runtime`,
 * the quantile keys, `horizon_steps` values per path, each in [0, 1], non-decreasing across
 * quantiles at every step) is `invalid` and fails every benchmark that sees one.
 */

export interface Expectation {
  readonly marketId: string
  readonly horizon: number
  /** Ascending, as the daemon sorts them. */
  readonly quantiles: readonly number[]
}

export const DEFAULT_QUANTILES: readonly number[] = [0.1, 0.5, 0.9]
export const DEFAULT_HORIZON = 12

export type Verdict =
  | { readonly kind: 'success'; readonly cacheHit: boolean; readonly daemonMs: number }
  | { readonly kind: 'fallback'; readonly reason: string; readonly cacheHit: boolean; readonly daemonMs: number }
  | { readonly kind: 'error'; readonly what: string }
  | { readonly kind: 'invalid'; readonly problem: string }

interface Meta {
  runtime?: unknown
  fallback_used?: unknown
  fallback_reason?: unknown
  cache_hit?: unknown
  timings_ms?: { total?: unknown }
}

function invalid(problem: string): Verdict {
  return { kind: 'invalid', problem }
}

/** Checks one parsed forecast answer (also each result of a cycle). */
export function checkForecast(body: unknown, want: Expectation): Verdict {
  if (typeof body !== 'object' || body === null) return invalid('body is not a JSON object')
  const a = body as { market_id?: unknown; horizon_steps?: unknown; yhat_q?: unknown; meta?: Meta }
  if (a.market_id !== want.marketId) return invalid('market_id differs from the request')
  if (a.horizon_steps !== want.horizon) return invalid('horizon_steps differs from the request')
  const meta = a.meta
  if (typeof meta !== 'object' || meta === null) return invalid('meta missing')
  if (meta.runtime !== 'tollama' && meta.runtime !== 'baseline') return invalid('meta.runtime is neither tollama nor baseline')
  if (typeof meta.fallback_used !== 'boolean') return invalid('meta.fallback_used missing')
  if (meta.runtime === 'baseline' && !meta.fallback_used) return invalid('baseline answer without fallback_used')
  if (meta.fallback_used && typeof meta.fallback_reason !== 'string') return invalid('fallback_used without a fallback_reason')
  const problem = checkPaths(a.yhat_q, want)
  if (problem !== null) return invalid(problem)
  const total = meta.timings_ms?.total
  const daemonMs = typeof total === 'number' ? total : Number.NaN
  const cacheHit = meta.cache_hit === true
  if (meta.fallback_used) return { kind: 'fallback', reason: meta.fallback_reason as string, cacheHit, daemonMs }
  return { kind: 'success', cacheHit, daemonMs }
}

/** null when every path is present, long enough, inside [0, 1] and free of crossings. */
export function checkPaths(yhat: unknown, want: Expectation): string | null {
  if (typeof yhat !== 'object' || yhat === null) return 'yhat_q missing'
  const paths: unknown[] = []
  for (const q of want.quantiles) {
    const p = (yhat as Record<string, unknown>)[String(q)]
    if (!Array.isArray(p)) return `yhat_q["${q}"] missing`
    if (p.length !== want.horizon) return `yhat_q["${q}"] has ${p.length} values, not ${want.horizon}`
    paths.push(p)
  }
  for (let h = 0; h < want.horizon; h++) {
    let prev = -Infinity
    for (const p of paths) {
      const v = (p as unknown[])[h]
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'yhat_q holds a non-finite value'
      if (v < 0 || v > 1) return 'yhat_q value outside [0, 1]'
      if (v < prev) return 'yhat_q quantiles cross'
      prev = v
    }
  }
  return null
}

/** Checks an HTTP answer: status first, then the forecast body. */
export function checkResponse(status: number, text: string, want: Expectation): Verdict {
  if (status !== 200) return { kind: 'error', what: `http_${status}` }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return invalid('body is not JSON')
  }
  return checkForecast(body, want)
}
