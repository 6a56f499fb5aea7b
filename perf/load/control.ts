import { request } from 'undici'
import type { SimFaultRates, SimLatencyUpdate, SimStats } from '../../src/sim/types.js'
import type { RunnerState } from '../../src/supervisor/state.js'

/**
 * The out-of-band routes the benchmarks use: the simulator's `/_sim/*` control routes
 * (docs/sim-upstream.md) and the daemon's `GET /tsfm/state`. Plain requests on their own
 * connections, outside the load generator's pool.
 */

async function json<T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  const res = await request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`)
  return JSON.parse(text) as T
}

export function simStats(simUrl: string): Promise<SimStats> {
  return json<SimStats>(`${simUrl}/_sim/stats`, 'GET')
}

export async function simReset(simUrl: string): Promise<void> {
  await json(`${simUrl}/_sim/reset`, 'POST')
}

/** Replaces the fault rates (`{}` heals the simulator). */
export async function simFaults(simUrl: string, faults: SimFaultRates): Promise<void> {
  await json(`${simUrl}/_sim/faults`, 'POST', { faults })
}

/** Changes the simulator's cost model (`POST /_sim/latency`): fixed and per-series cost, cold start, keep-alive. */
export async function simLatency(simUrl: string, update: SimLatencyUpdate): Promise<void> {
  await json(`${simUrl}/_sim/latency`, 'POST', update)
}

export function daemonState(daemonUrl: string): Promise<RunnerState> {
  return json<RunnerState>(`${daemonUrl}/tsfm/state`, 'GET')
}

/** A cycle through `POST /tsfm/cycle`: the parsed answer and the client-side wall time. */
export async function postCycle(daemonUrl: string, body: unknown): Promise<{ status: number; wallMs: number; answer: unknown }> {
  const text = JSON.stringify(body)
  const t0 = performance.now()
  const res = await request(`${daemonUrl}/tsfm/cycle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: text,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  })
  const answerText = await res.body.text()
  const wallMs = performance.now() - t0
  let answer: unknown = null
  try {
    answer = JSON.parse(answerText)
  } catch {
    answer = null
  }
  return { status: res.statusCode, wallMs, answer }
}
