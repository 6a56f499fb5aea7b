import { modelValue } from './transforms.js'

/**
 * ROLLING_QUANTILE baseline, distribution-free: a random walk whose steps are the empirical
 * one-step changes of the last `window` points (in model space). Quantile q at horizon step h is
 * `x_last + Q_q(d)·sqrt(h)`, where Q_q is the empirical quantile (linear interpolation between
 * order statistics, "type 7" — numpy's and R's default) of the `min(window, n) − 1` changes d.
 * Changes rather than levels: the spread of past levels would put a trending market's band around
 * where it has been, not around where it is; scaling by sqrt(h) is the random-walk fan, the same
 * shape as the Gaussian baselines, with the tails the market actually showed.
 */

/** Type-7 empirical quantile of an ascending, non-empty array. */
export function empiricalQuantile(sorted: Float64Array, p: number): number {
  const pos = (sorted.length - 1) * p
  const lo = Math.floor(pos)
  const a = sorted[lo] as number
  if (lo + 1 >= sorted.length) return a
  return a + (pos - lo) * ((sorted[lo + 1] as number) - a)
}

/** Writes the band in model space; `y` has at least two points and `window ≥ 2`. */
export function rollingQuantileModelBand(
  y: Float64Array,
  logitSpace: boolean,
  eps: number,
  window: number,
  quantiles: ArrayLike<number>,
  horizon: number,
  out: Float64Array,
): void {
  const n = y.length
  const w = Math.min(window, n)
  const start = n - w
  const changes = new Float64Array(w - 1)
  let prev = modelValue(y[start] as number, logitSpace, eps)
  for (let i = 1; i < w; i++) {
    const x = modelValue(y[start + i] as number, logitSpace, eps)
    changes[i - 1] = x - prev
    prev = x
  }
  changes.sort()
  const last = prev
  const nQ = quantiles.length
  for (let q = 0; q < nQ; q++) {
    const dq = empiricalQuantile(changes, quantiles[q] as number)
    const row = q * horizon
    for (let h = 1; h <= horizon; h++) out[row + h - 1] = last + dq * Math.sqrt(h)
  }
}
