import { normalQuantile } from './normal.js'
import { modelValue } from './transforms.js'

/**
 * KALMAN baseline: a local-level model in model space,
 *   x_t = μ_t + ε_t,  ε ~ N(0, R)      (observation noise: bid/ask bounce, stale prints)
 *   μ_t = μ_{t−1} + η_t,  η ~ N(0, Q)  (the level's random walk)
 *
 * Noise parameters are not tuned constants: they are estimated per series by the method of moments
 * on first differences d_t = x_t − x_{t−1} = η_t + ε_t − ε_{t−1}, for which Var(d) = Q + 2R and
 * the lag-1 autocovariance is −R. So R = −γ₁ (clamped to [0, γ₀/2]: a positive γ₁, i.e. momentum,
 * means no measurable observation noise) and Q = γ₀ − 2R (floored at eps so the fan always
 * widens). The moments are uncentred (a local level has no drift). Why this choice: it needs no
 * per-market tuning, costs O(n) with no allocation, and on a pure random walk (R = 0) it reduces
 * to "last value, σ_h = sqrt(h·γ₀)" — the same fan shape as the EWMA baseline.
 *
 * The filter starts at μ₀ = x₀ with P₀ = R (the first print is the level up to observation noise).
 * At horizon step h the predictive variance of an observation is P + h·Q + R; quantile q is
 * `μ + z_q·sqrt(max(P + h·Q + R, eps))`.
 */
export function kalmanModelBand(
  y: Float64Array,
  logitSpace: boolean,
  eps: number,
  quantiles: ArrayLike<number>,
  horizon: number,
  out: Float64Array,
): void {
  const n = y.length
  let prev = modelValue(y[0] as number, logitSpace, eps)
  let prevDiff = 0
  let g0 = 0
  let g1 = 0
  for (let i = 1; i < n; i++) {
    const x = modelValue(y[i] as number, logitSpace, eps)
    const d = x - prev
    g0 += d * d
    if (i >= 2) g1 += d * prevDiff
    prevDiff = d
    prev = x
  }
  const m = n - 1
  g0 /= m
  g1 = m >= 2 ? g1 / (m - 1) : 0
  const R = Math.min(Math.max(-g1, 0), g0 / 2)
  const Q = Math.max(g0 - 2 * R, eps)

  let mu = modelValue(y[0] as number, logitSpace, eps)
  let P = R
  for (let i = 1; i < n; i++) {
    const x = modelValue(y[i] as number, logitSpace, eps)
    P += Q
    const S = P + R
    const K = S > 0 ? P / S : 1
    mu += K * (x - mu)
    P = (1 - K) * P
  }

  const nQ = quantiles.length
  for (let q = 0; q < nQ; q++) {
    const z = normalQuantile(quantiles[q] as number)
    const row = q * horizon
    for (let h = 1; h <= horizon; h++) out[row + h - 1] = mu + z * Math.sqrt(Math.max(P + h * Q + R, eps))
  }
}
