import type { ConformalAdjustment } from './adjustment.js'

/**
 * The low and high ends of the band `adjustBand` serves, as plain numbers: for scoring an
 * outcome against what was served (CoverageWindow) without building the answer object. Same
 * arithmetic in the same order as adjustBand, so the ends agree with its q10/q90 to the bit;
 * `adj` null is the raw band (crossed ends swapped).
 */
export function adjustedLow(low: number, center: number | null, high: number, adj: ConformalAdjustment | null): number {
  const lo = low > high ? high : low
  if (adj === null) return lo
  const hi = low > high ? low : high
  const c = center === null ? (lo + hi) / 2 : center
  return clip01(c + adj.center_shift - ((hi - lo) / 2) * adj.width_scale)
}

export function adjustedHigh(low: number, center: number | null, high: number, adj: ConformalAdjustment | null): number {
  const hi = low > high ? low : high
  if (adj === null) return hi
  const lo = low > high ? high : low
  const c = center === null ? (lo + hi) / 2 : center
  return clip01(c + adj.center_shift + ((hi - lo) / 2) * adj.width_scale)
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v
}
