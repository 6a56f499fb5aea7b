import { Pool } from 'undici'
import { DEFAULTS } from '../../src/config/defaults.js'
import { attemptBody, buildForecastBody } from '../../src/io/thread/wire.js'
import { defaultsFromConfig, validateForecastRequest } from '../../src/request/validate.js'
import { upstreamJob } from '../../src/supervisor/upstream-job.js'
import { median } from '../load/percentiles.js'
import { RequestMix } from '../load/request-mix.js'

/**
 * The upstream's own figures, measured in the same run as what is judged against them (issue
 * "upstream lanes": every speed figure is a ratio to them): T(n) = the wall time of one tollama
 * request carrying n series of 288 points, sent straight to the simulator — the body the daemon
 * itself would send for n markets (src/io/thread/wire.ts). T32 and T200 are the units,
 * CAP = 32 / T32 the upstream's capacity in forecasts per second with full 32-series batches.
 */

/** tollama's cost shape on this class of machine (tollama-api.md): 25 ms + 1.2 ms per series, one request at a time per model. */
export const TOLLAMA_SHAPE = ['--serial', '--latency-fixed', '25', '--latency-per-series', '1.2'] as const

export function batchBody(n: number, model = DEFAULTS.adapter.model, seed = 1): string {
  const mix = new RequestMix({ prefix: `shape-${seed}`, uniqueKeys: n, requests: n, seed })
  const defaults = defaultsFromConfig(DEFAULTS)
  const timeoutMs = 30_000
  const jobs = Array.from({ length: n }, (_, k) => {
    const v = validateForecastRequest(JSON.parse(mix.body(k).toString()), defaults)
    if (!v.ok) throw new Error(v.error.message)
    return { ...upstreamJob(v.value, 0, 0, timeoutMs, 0, DEFAULTS.input_len_steps, false, null), model }
  })
  return attemptBody(buildForecastBody(jobs, jobs.map((j) => j.series_id)), '/api/forecast', timeoutMs)
}

export interface UpstreamShape {
  /** Median wall of one n-series request (ms), by n. */
  readonly t: Readonly<Record<number, number>>
  readonly t32: number
  readonly t200: number
  /** 32 / T32, forecasts per second. */
  readonly cap: number
}

/** Median of `repeats` requests of each size, one at a time. */
export async function measureShape(simUrl: string, sizes: readonly number[] = [32, 200], repeats = 7, model = DEFAULTS.adapter.model): Promise<UpstreamShape> {
  const pool = new Pool(simUrl, { connections: 1 })
  const t: Record<number, number> = {}
  try {
    for (const n of new Set([...sizes, 32, 200])) {
      const body = batchBody(n, model)
      const samples: number[] = []
      for (let i = 0; i < repeats + 1; i++) {
        const t0 = performance.now()
        const res = await pool.request({ path: '/api/forecast', method: 'POST', headers: { 'content-type': 'application/json' }, body })
        const text = await res.body.text()
        if (res.statusCode !== 200) throw new Error(`upstream answered ${res.statusCode}: ${text.slice(0, 200)}`)
        if (i > 0) samples.push(performance.now() - t0) // the first warms the connection
      }
      t[n] = median(samples)
    }
  } finally {
    await pool.close()
  }
  const t32 = t[32] as number
  return { t, t32, t200: t[200] as number, cap: (32 / t32) * 1000 }
}

/** The least-squares line `fixed + perSeries × n` through the measured T(n) (ms). */
export function fitShape(shape: UpstreamShape): { readonly fixedMs: number; readonly perSeriesMs: number } {
  const pts = Object.entries(shape.t).map(([n, t]) => [Number(n), t] as const)
  const k = pts.length
  const mx = pts.reduce((s, [n]) => s + n, 0) / k
  const my = pts.reduce((s, [, t]) => s + t, 0) / k
  const sxx = pts.reduce((s, [n]) => s + (n - mx) ** 2, 0)
  const sxy = pts.reduce((s, [n, t]) => s + (n - mx) * (t - my), 0)
  const perSeriesMs = sxx === 0 ? 0 : sxy / sxx
  return { fixedMs: my - perSeriesMs * mx, perSeriesMs }
}

/** T(n): the measured median when n was measured, else the fitted line's value. */
export function shapeT(shape: UpstreamShape, n: number): number {
  const measured = shape.t[n]
  if (measured !== undefined) return measured
  const f = fitShape(shape)
  return f.fixedMs + f.perSeriesMs * n
}
