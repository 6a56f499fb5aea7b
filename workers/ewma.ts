import { normalQuantile } from './normal.js'
import { modelValue } from './transforms.js'

/**
 * The EWMA baseline of SPEC §6, in model space (logit unless identity). `level₀ = x₀, var₀ = 0`;
 * for each next x: `e = x − level` (the level before this point), `level ← α·x + (1 − α)·level`,
 * `var ← α·e² + (1 − α)·var`. Written exactly as the spec (and the Python service) states it, so
 * the two agree to the last bit.
 */

/** Fits the recursion over `y` (at least one point) and writes `[level, variance]` into `state`. */
export function ewmaFit(y: Float64Array, logitSpace: boolean, eps: number, alpha: number, state: Float64Array): Float64Array {
  let level = modelValue(y[0] as number, logitSpace, eps)
  let variance = 0
  const n = y.length
  for (let i = 1; i < n; i++) {
    const x = modelValue(y[i] as number, logitSpace, eps)
    const e = x - level
    level = alpha * x + (1 - alpha) * level
    variance = alpha * e * e + (1 - alpha) * variance
  }
  state[0] = level
  state[1] = variance
  return state
}

const state = new Float64Array(2)

/**
 * Writes the EWMA band in model space: at step h (1-based) `σ_h = sqrt(max(var, eps))·sqrt(h)`
 * (a fan; the Python service uses sqrt(H) at every step, so it matches ours at the last step only)
 * and quantile q is `level + z_q·σ_h`. `y` has at least two points.
 */
export function ewmaModelBand(
  y: Float64Array,
  logitSpace: boolean,
  eps: number,
  alpha: number,
  quantiles: ArrayLike<number>,
  horizon: number,
  out: Float64Array,
): void {
  ewmaFit(y, logitSpace, eps, alpha, state)
  const level = state[0] as number
  const sd = Math.sqrt(Math.max(state[1] as number, eps))
  const nQ = quantiles.length
  for (let q = 0; q < nQ; q++) {
    const z = normalQuantile(quantiles[q] as number)
    const row = q * horizon
    for (let h = 1; h <= horizon; h++) out[row + h - 1] = level + z * (sd * Math.sqrt(h))
  }
}
