import type { BaselineMethod, TransformSpace } from '../src/config/types.js'
import { ewmaModelBand } from './ewma.js'
import { kalmanModelBand } from './kalman.js'
import { STATUS_NON_FINITE_INPUT, STATUS_NON_FINITE_OUTPUT } from './protocol.js'
import { rollingQuantileModelBand } from './rolling-quantile.js'
import { clip01, inverseClipInto, medianIndex, repairBand } from './transforms.js'

/**
 * The baseline dispatcher (SPEC §6): a band from the raw series by the configured method, then the
 * same clip, crossing fix and width guards as an upstream answer.
 *
 * With fewer than two points there is nothing to fit: the band is centred on the last point as a
 * probability (0.5 for an empty series) — never on logit 0 — and the width guard widens it to the
 * minimum width (fixes: the Python service centres at 0 in logit mode).
 *
 * Writes `out` (`nQ * H` values) and returns the warning mask, or a negative status: a non-finite
 * point, or a fit that produced a non-finite value (an identity-space series near ±1e154 can
 * overflow e²). The caller answers those `baseline_error`.
 */
export function baselineInto(
  y: Float64Array,
  method: BaselineMethod,
  space: TransformSpace,
  eps: number,
  alpha: number,
  window: number,
  quantiles: ArrayLike<number>,
  horizon: number,
  minWidth: number,
  maxWidth: number,
  out: Float64Array,
): number {
  const n = y.length
  for (let i = 0; i < n; i++) if (!Number.isFinite(y[i] as number)) return STATUS_NON_FINITE_INPUT
  const nQ = quantiles.length
  const len = nQ * horizon
  if (n < 2) {
    out.fill(n === 0 ? 0.5 : clip01(y[n - 1] as number), 0, len)
  } else {
    const logitSpace = space === 'logit'
    if (method === 'KALMAN') kalmanModelBand(y, logitSpace, eps, quantiles, horizon, out)
    else if (method === 'ROLLING_QUANTILE') rollingQuantileModelBand(y, logitSpace, eps, window, quantiles, horizon, out)
    else ewmaModelBand(y, logitSpace, eps, alpha, quantiles, horizon, out)
    if (!inverseClipInto(out, out, len, space)) return STATUS_NON_FINITE_OUTPUT
  }
  return repairBand(out, nQ, horizon, medianIndex(quantiles), minWidth, maxWidth)
}
