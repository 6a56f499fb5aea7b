import { checkForecast, DEFAULT_HORIZON, DEFAULT_QUANTILES } from '../load/check-answer.js'
import { RequestMix } from '../load/request-mix.js'

/**
 * A top-N cycle through `POST /tsfm/cycle`: the body (N distinct markets of 288 points) and the
 * check of its answer — every result checked like a single forecast, counted as upstream,
 * fallback (by reason) or invalid.
 */

export interface CycleBody {
  readonly requests: readonly Record<string, unknown>[]
  readonly budget_ms: number
}

export interface CycleCheck {
  readonly markets: number
  readonly status: number
  /** Client-side wall time of the whole cycle (send → last byte). */
  readonly wallMs: number
  /** The daemon's own `summary.wall_ms`. */
  readonly summaryWallMs: number | null
  /** Answers that passed every check (upstream or fallback). */
  readonly valid: number
  readonly upstream: number
  readonly fallbacks: number
  readonly fallbacksByReason: Readonly<Record<string, number>>
  readonly invalid: number
  readonly problems: readonly string[]
}

export function cycleBody(prefix: string, markets: number, budgetMs: number): CycleBody {
  const mix = new RequestMix({ prefix, uniqueKeys: markets, requests: markets })
  return { requests: Array.from({ length: markets }, (_, k) => mix.object(k)), budget_ms: budgetMs }
}

export function checkCycle(res: { status: number; wallMs: number; answer: unknown }, body: CycleBody): CycleCheck {
  const problems: string[] = []
  const byReason: Record<string, number> = {}
  let valid = 0
  let upstream = 0
  let fallbacks = 0
  const a = res.answer as { results?: unknown; summary?: { wall_ms?: unknown } } | null
  const results = Array.isArray(a?.results) ? (a.results as unknown[]) : []
  if (res.status !== 200) problems.push(`HTTP ${res.status}`)
  else if (results.length !== body.requests.length) problems.push(`${results.length} results for ${body.requests.length} markets`)
  for (let i = 0; i < results.length; i++) {
    const marketId = (body.requests[i] as { market_id: string }).market_id
    const v = checkForecast(results[i], { marketId, horizon: DEFAULT_HORIZON, quantiles: DEFAULT_QUANTILES })
    if (v.kind === 'success') {
      valid++
      upstream++
    } else if (v.kind === 'fallback') {
      valid++
      fallbacks++
      byReason[v.reason] = (byReason[v.reason] ?? 0) + 1
    } else if (problems.length < 5) problems.push(`results[${i}]: ${v.kind === 'invalid' ? v.problem : v.what}`)
  }
  const summaryWall = a?.summary?.wall_ms
  return {
    markets: body.requests.length,
    status: res.status,
    wallMs: res.wallMs,
    summaryWallMs: typeof summaryWall === 'number' ? summaryWall : null,
    valid,
    upstream,
    fallbacks,
    fallbacksByReason: byReason,
    invalid: results.length - valid,
    problems,
  }
}
