import type { ForecastRequest } from '../request/types.js'
import { applyWidthGuards, medianIndex } from '../../workers/transforms.js'

/**
 * The band of last resort when even the baseline failed (`baseline_error`): every quantile at
 * the last point (or 0.5), then the ordinary width guards — minimum width, inside [0,1],
 * centred on the value and never on 0 (SPEC §6).
 */
export function emergencyBand(req: ForecastRequest, minWidth: number, maxWidth: number): Float64Array {
  const nQ = req.quantiles.length
  const H = req.horizon_steps
  const last = req.y.length > 0 ? (req.y[req.y.length - 1] as number) : 0.5
  const centre = Number.isFinite(last) ? Math.min(1, Math.max(0, last)) : 0.5
  const band = new Float64Array(nQ * H).fill(centre)
  applyWidthGuards(band, nQ, H, medianIndex(req.quantiles), minWidth, maxWidth)
  return band
}
