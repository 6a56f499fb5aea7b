import { DEFAULTS } from '../../src/config/defaults.js'
import { attemptBody, buildForecastBody } from '../../src/io/thread/wire.js'
import { defaultsFromConfig, validateForecastRequest } from '../../src/request/validate.js'
import { upstreamJob } from '../../src/supervisor/upstream-job.js'

/**
 * The tollama request the daemon itself sends for a forecast body: validated with the stock
 * defaults, turned into an upstream job and written by src/io/thread/wire.ts (one series,
 * `/api/forecast`, stock attempt timeout). Sending it straight to the simulator measures the
 * upstream without the daemon in between.
 */
export function upstreamBody(body: string): string {
  const v = validateForecastRequest(JSON.parse(body), defaultsFromConfig(DEFAULTS))
  if (!v.ok) throw new Error(`bench request invalid: ${v.error.message}`)
  const timeoutMs = DEFAULTS.adapter.timeout_s * 1000
  const job = upstreamJob(v.value, 0, 0, timeoutMs, 0, DEFAULTS.input_len_steps, false, null)
  return attemptBody(buildForecastBody([job], [v.value.market_id]), '/api/forecast', timeoutMs)
}

/** A valid tollama answer with a median path? null when it is. */
export function upstreamAnswerProblem(status: number, text: string): string | null {
  if (status !== 200) return `http_${status}`
  try {
    const a = JSON.parse(text) as { forecasts?: { quantiles?: Record<string, unknown> }[] }
    return a.forecasts?.[0]?.quantiles?.['0.5'] === undefined ? 'no forecast in the answer' : null
  } catch {
    return 'body is not JSON'
  }
}
