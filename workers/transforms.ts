import type { TransformSpace } from '../src/config/types.js'
import {
  WARN_INTERVAL_MAX_WIDTH_CLAMPED,
  WARN_INTERVAL_MIN_WIDTH_ENFORCED,
  WARN_QUANTILE_CROSSING_FIXED,
} from './warnings.js'

/**
 * The post-processing math of SPEC §6 as pure functions over quantile bands. A band is a
 * Float64Array of `nQ * H` values, quantile-major: row `q` (index into the ascending quantile
 * list) holds the H horizon steps of that quantile, so value (q, h) sits at `q * H + h`.
 * Nothing here allocates per value or throws for any finite input.
 */

/** `ln(p' / (1 − p'))` with `p' = min(max(p, eps), 1 − eps)`. logit(0) at eps 1e-6 is −13.815509557963773. */
export function logit(p: number, eps: number): number {
  const c = p < eps ? eps : p > 1 - eps ? 1 - eps : p
  return Math.log(c / (1 - c))
}

/**
 * `dst[i] = logit(src[i], eps)` — the transform the I/O actor applies to the points it sends
 * upstream (pass `src.subarray(n - input_len)` for the last `input_len` points). Writes at most
 * `dst.length` values and returns `dst`.
 */
export function logitSeries(src: Float64Array, eps: number, dst: Float64Array = new Float64Array(src.length)): Float64Array {
  const n = Math.min(src.length, dst.length)
  for (let i = 0; i < n; i++) dst[i] = logit(src[i] as number, eps)
  return dst
}

/**
 * Below this, `e^(−v)` would overflow to Infinity (e^709.78 is the largest finite double), so the
 * other form of σ is used. Above it we keep `1 / (1 + e^(−v))` for negative v too: it is what the
 * Python service (numpy) computes, so our bands agree with it to the last bit (σ(−0.2) is
 * 0.45016600268752216 that way, one ulp away from `e^v / (1 + e^v)`).
 */
const SIGMOID_SWITCH = -708

/** σ(v) = 1 / (1 + e^(−v)) without an overflowing intermediate: σ(−800) = 0, σ(800) = 1. */
export function sigmoid(v: number): number {
  if (v >= SIGMOID_SWITCH) return 1 / (1 + Math.exp(-v))
  const e = Math.exp(v)
  return e / (1 + e)
}

export function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v
}

/**
 * `dst[i] = clip01(inverse(src[i]))` for `n` values: σ in logit space, the identity otherwise.
 * Returns false if a model-space value is not finite (the caller turns that into an error rather
 * than letting the clip hide an overflow).
 */
export function inverseClipInto(src: Float64Array, dst: Float64Array, n: number, space: TransformSpace): boolean {
  let finite = true
  if (space === 'logit') {
    for (let i = 0; i < n; i++) {
      const v = src[i] as number
      if (!Number.isFinite(v)) finite = false
      dst[i] = clip01(sigmoid(v))
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i] as number
      if (!Number.isFinite(v)) finite = false
      dst[i] = clip01(v)
    }
  }
  return finite
}

/**
 * Crossing fix by rearrangement: at each step, sort the values across quantiles and reassign them
 * in ascending quantile order (insertion sort down the column; nQ ≤ 20 in practice, and usually
 * already sorted, which costs one comparison per value). Returns true if any step changed.
 */
export function fixCrossing(band: Float64Array, nQ: number, H: number): boolean {
  let changed = false
  for (let h = 0; h < H; h++) {
    for (let i = 1; i < nQ; i++) {
      const v = band[i * H + h] as number
      let j = i - 1
      while (j >= 0 && (band[j * H + h] as number) > v) {
        band[(j + 1) * H + h] = band[j * H + h] as number
        j--
      }
      if (j !== i - 1) {
        band[(j + 1) * H + h] = v
        changed = true
      }
    }
  }
  return changed
}

/**
 * The row of the median used by the width guards: the 0.5 quantile if present; otherwise the
 * middle one for an odd count; for an even count, whichever of the two middle quantiles is nearer
 * 0.5 (the lower on a tie). `quantiles` must be ascending.
 */
export function medianIndex(quantiles: ArrayLike<number>): number {
  const n = quantiles.length
  for (let i = 0; i < n; i++) if (quantiles[i] === 0.5) return i
  if (n % 2 === 1) return (n - 1) >> 1
  const lower = n / 2 - 1
  const dLow = Math.abs((quantiles[lower] as number) - 0.5)
  const dHigh = Math.abs((quantiles[lower + 1] as number) - 0.5)
  return dHigh < dLow ? lower + 1 : lower
}

// One-ulp steps for the width nudges below. Values there are in [0, 1], so stepping the bit
// pattern of a non-negative double (as two 32-bit words) is nextUp / nextDown.
const ulpBits = new Float64Array(1)
const ulpWords = new Uint32Array(ulpBits.buffer)
ulpBits[0] = 1
/** Index of the low word: 0 on little-endian machines (all Node targets), 1 otherwise. */
const LOW = ulpWords[1] === 0x3ff00000 ? 0 : 1
const HIGH = 1 - LOW

/** The next double above x ≥ 0. */
function up(x: number): number {
  if (!(x >= 0) || x === Infinity) return x
  ulpBits[0] = x
  if (ulpWords[LOW] === 0xffffffff) {
    ulpWords[LOW] = 0
    ulpWords[HIGH] = (ulpWords[HIGH] as number) + 1
  } else {
    ulpWords[LOW] = (ulpWords[LOW] as number) + 1
  }
  return ulpBits[0] as number
}

/** The next double below x > 0 (0 stays 0). */
function down(x: number): number {
  if (!(x > 0) || x === Infinity) return x
  ulpBits[0] = x
  if (ulpWords[LOW] === 0) {
    ulpWords[LOW] = 0xffffffff
    ulpWords[HIGH] = (ulpWords[HIGH] as number) - 1
  } else {
    ulpWords[LOW] = (ulpWords[LOW] as number) - 1
  }
  return ulpBits[0] as number
}

/** Rounding can leave a computed width an ulp or two short or long; a few nudges settle it. */
const MAX_NUDGES = 8

/**
 * Width guards on the outer pair at every step (SPEC §6), after the crossing fix, so each column
 * is ascending. `mi` is `medianIndex(quantiles)`. Returns the warning bits it set.
 *
 * - `w < minWidth`: `lo' = m − min/2`, `hi' = m + min/2`; if `lo' < 0` the pair becomes exactly
 *   `[0, min]`, if `hi' > 1` exactly `[1 − min, 1]`. A median of 0.002 with zero width becomes
 *   `[0, 0.002, 0.02]`.
 * - `w > maxWidth`: `lo' = m − (m − lo)·max/w`, `hi' = m + (hi − m)·max/w` (skew kept).
 * - Inner quantiles are re-clamped into `[lo', hi']`; the median never moves. It always lies in
 *   `[lo', hi']`: with min ≤ 1, `m − min/2 ≤ m ≤ m + min/2`, a shift up only happens when
 *   `m < min/2 < min = hi'`, a shift down only when `m > 1 − min/2 > lo'`; the max rule only
 *   moves each end toward m. So every column stays ascending.
 * - When the median row is itself an outer row (two quantiles, or 0.5 at an end of the set) there
 *   is no inner median to keep, and the centre is the midpoint of the pair instead.
 * - Widths are exact up to rounding; a final nudge of an ulp or two makes `hi' − lo'` (as computed
 *   in doubles) at least `min` and at most `max`, so `width ≥ min` and `≤ max` hold literally.
 *
 * `minWidth` is clamped to [0, 1] (a band cannot be wider than [0, 1]); callers guarantee
 * `minWidth ≤ maxWidth`. With one quantile the guards do not apply.
 */
export function applyWidthGuards(
  band: Float64Array,
  nQ: number,
  H: number,
  mi: number,
  minWidth: number,
  maxWidth: number,
): number {
  if (nQ < 2) return 0
  const minW = minWidth < 0 ? 0 : minWidth > 1 ? 1 : minWidth
  const top = (nQ - 1) * H
  const innerMedian = mi > 0 && mi < nQ - 1
  let warnings = 0
  for (let h = 0; h < H; h++) {
    const lo = band[h] as number
    const hi = band[top + h] as number
    const w = hi - lo
    let nlo: number
    let nhi: number
    if (w < minW) {
      const m = innerMedian ? (band[mi * H + h] as number) : (lo + hi) / 2
      nlo = m - minW / 2
      nhi = m + minW / 2
      if (nlo < 0) {
        nlo = 0
        nhi = minW
      } else if (nhi > 1) {
        nhi = 1
        nlo = 1 - minW
      }
      for (let k = 0; k < MAX_NUDGES && nhi - nlo < minW; k++) {
        if (nhi < 1) nhi = Math.min(1, up(nhi))
        else nlo = Math.max(0, down(nlo))
      }
      warnings |= WARN_INTERVAL_MIN_WIDTH_ENFORCED
    } else if (w > maxWidth) {
      const m = innerMedian ? (band[mi * H + h] as number) : (lo + hi) / 2
      // Evaluated in the spec's order, ((m − lo)·max)/w, for bit parity with the Python service.
      nlo = Math.max(0, m - ((m - lo) * maxWidth) / w)
      nhi = Math.min(1, m + ((hi - m) * maxWidth) / w)
      for (let i = 0; i < MAX_NUDGES && nhi - nlo > maxWidth; i++) {
        if (nhi > m) nhi = down(nhi)
        else nlo = up(nlo)
      }
      warnings |= WARN_INTERVAL_MAX_WIDTH_CLAMPED
    } else {
      continue
    }
    band[h] = nlo
    band[top + h] = nhi
    for (let i = 1; i < nQ - 1; i++) {
      const at = i * H + h
      const v = band[at] as number
      band[at] = v < nlo ? nlo : v > nhi ? nhi : v
    }
  }
  return warnings
}

/**
 * Crossing fix, then width guards, on a band already clipped to [0, 1] (in place).
 * Returns the warning mask.
 */
export function repairBand(
  band: Float64Array,
  nQ: number,
  H: number,
  mi: number,
  minWidth: number,
  maxWidth: number,
): number {
  const warnings = fixCrossing(band, nQ, H) ? WARN_QUANTILE_CROSSING_FIXED : 0
  return warnings | applyWidthGuards(band, nQ, H, mi, minWidth, maxWidth)
}

/** A series point in model space: its logit in logit space, itself in identity space. */
export function modelValue(p: number, logitSpace: boolean, eps: number): number {
  return logitSpace ? logit(p, eps) : p
}
