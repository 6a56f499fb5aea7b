import type { TransformSpace } from '../src/config/types.js'
import { STATUS_NON_FINITE_INPUT } from './protocol.js'
import { inverseClipInto, medianIndex, repairBand } from './transforms.js'

/**
 * SPEC §3 step 11 / §6: an upstream band in model space → inverse transform, clip, crossing fix,
 * width guards. Writes `out` (`nQ * H` values; may be `values` itself) and returns the warning
 * mask, or a negative status when an input value is not finite (upstream payload validation
 * should have caught it; the clip must not hide it).
 */
export function postprocessInto(
  values: Float64Array,
  quantiles: ArrayLike<number>,
  horizon: number,
  space: TransformSpace,
  minWidth: number,
  maxWidth: number,
  out: Float64Array,
): number {
  const nQ = quantiles.length
  if (!inverseClipInto(values, out, nQ * horizon, space)) return STATUS_NON_FINITE_INPUT
  return repairBand(out, nQ, horizon, medianIndex(quantiles), minWidth, maxWidth)
}
