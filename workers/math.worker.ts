import { threadId } from 'node:worker_threads'
import { move } from 'piscina'
import { runPackedBatch } from './compute.js'
import type { MathJob } from './protocol.js'
import { packBatch, packedLength } from './protocol.js'

/**
 * The single Piscina entry of the math threads; handlers are picked with piscina's `name` option.
 * Main-thread code lives in src/compute/math-pool.ts; the message format in ./protocol.ts.
 */

/**
 * Computes a packed batch in place and hands the same buffer back (transferred both ways, never
 * copied). A batch this version did not pack is returned untouched; the pool treats it as failed.
 */
export function runBatch(buf: Float64Array): Float64Array {
  if (buf instanceof Float64Array && buf.length >= 2) runPackedBatch(buf)
  return move(buf) as unknown as Float64Array
}

/**
 * Start-up warm-up: loads this module and runs representative jobs until V8 has optimised the
 * kernels, so the first real batch does not pay for compilation. Returns the thread id so the pool
 * can tell that every thread was reached.
 */
export function warmup(rounds: number): number {
  const jobs = warmupJobs()
  const buf = new Float64Array(packedLength(jobs, jobs.length))
  const n = Number.isInteger(rounds) && rounds > 0 ? Math.min(rounds, 10_000) : 1
  for (let i = 0; i < n; i++) runPackedBatch(packBatch(jobs, jobs.length, buf))
  return threadId
}

/** One job of each kind at the default shape (288 points, 3 quantiles × 12 steps). */
export function warmupJobs(): MathJob[] {
  const y = new Float64Array(288)
  for (let i = 0; i < y.length; i++) y[i] = 0.5 + 0.3 * Math.sin(i / 17)
  const values = new Float64Array(36)
  for (let i = 0; i < values.length; i++) values[i] = Math.cos(i) * 2
  const quantiles = [0.1, 0.5, 0.9]
  const common = { space: 'logit', quantiles, horizon: 12, min_width: 0.02, max_width: 0.6 } as const
  const baseline = { ...common, kind: 'baseline', eps: 1e-6, y, ewma_alpha: 0.2, rolling_window: 64 } as const
  return [
    { ...common, kind: 'postprocess', values },
    { ...baseline, method: 'EWMA' },
    { ...baseline, method: 'KALMAN' },
    { ...baseline, method: 'ROLLING_QUANTILE' },
  ]
}
