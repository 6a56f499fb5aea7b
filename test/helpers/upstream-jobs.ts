import type { UpstreamJob } from '../../src/io/types.js'

/** 2026-02-20T00:00:00Z: the `as_of` of every test job unless overridden. */
export const AS_OF_MS = Date.UTC(2026, 1, 20)
export const STEP_5M = 300_000

let nextTicket = 1

/** A valid upstream job: 32 probabilities around 0.5 in logit space, 5m, horizon 12, [0.1,0.5,0.9]. */
export function makeJob(overrides: Partial<UpstreamJob> = {}, now = performance.timeOrigin + performance.now()): UpstreamJob {
  const y = new Float64Array(32)
  for (let i = 0; i < y.length; i++) y[i] = 0.5 + 0.3 * Math.sin(i / 5)
  const ticket = overrides.ticket ?? nextTicket++
  return {
    ticket,
    deadline: now + 1600,
    attempt_timeout_ms: 1200,
    max_retries: 1,
    high: false,
    request_id: null,
    model: 'chronos2',
    horizon: 12,
    quantiles: [0.1, 0.5, 0.9],
    freq: '5m',
    step_ms: STEP_5M,
    as_of_ms: AS_OF_MS,
    params: {},
    series_id: `m-${ticket}`,
    y,
    y_ts: null,
    space: 'logit',
    eps: 1e-6,
    x_past: {},
    x_future: {},
    ...overrides,
  }
}
