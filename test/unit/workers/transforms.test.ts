import { describe, expect, it } from 'vitest'
import { postprocessInto } from '../../../workers/postprocess.js'
import {
  applyWidthGuards,
  clip01,
  fixCrossing,
  inverseClipInto,
  logit,
  logitSeries,
  medianIndex,
  sigmoid,
} from '../../../workers/transforms.js'
import { WARN_INTERVAL_MAX_WIDTH_CLAMPED, WARN_INTERVAL_MIN_WIDTH_ENFORCED, warningNames } from '../../../workers/warnings.js'

/** Rows of a quantile-major band, as plain arrays. */
function rows(band: Float64Array, nQ: number, H: number): number[][] {
  return Array.from({ length: nQ }, (_, q) => Array.from(band.subarray(q * H, (q + 1) * H)))
}

describe('logit', () => {
  it('clamps 0 and 1 to eps and 1 − eps (eps 1e-6)', () => {
    expect(logit(0, 1e-6)).toBe(-13.815509557963773)
    expect(logit(1, 1e-6)).toBe(13.815509557935018)
  })

  it('is 0 at one half and ln 3 at three quarters', () => {
    expect(logit(0.5, 1e-6)).toBe(0)
    expect(logit(0.75, 1e-6)).toBe(Math.log(3))
    expect(logit(0.25, 1e-6)).toBeCloseTo(-Math.log(3), 15)
  })

  it('transforms a series into a given array, or a new one', () => {
    const src = new Float64Array([0, 0.5, 1])
    const dst = new Float64Array(3)
    expect(logitSeries(src, 1e-6, dst)).toBe(dst)
    expect(Array.from(dst)).toEqual([-13.815509557963773, 0, 13.815509557935018])
    expect(Array.from(logitSeries(src.subarray(1), 1e-6))).toEqual([0, 13.815509557935018])
  })

  it('writes no further than the destination when it is shorter', () => {
    const dst = new Float64Array(1)
    logitSeries(new Float64Array([0.5, 0.9]), 1e-6, dst)
    expect(Array.from(dst)).toEqual([0])
  })
})

describe('sigmoid', () => {
  it('maps a logit of −800 to 0 and +800 to 1 without overflow', () => {
    expect(sigmoid(-800)).toBe(0)
    expect(sigmoid(800)).toBe(1)
    expect(sigmoid(-Number.MAX_VALUE)).toBe(0)
    expect(sigmoid(Number.MAX_VALUE)).toBe(1)
  })

  it('computes 1 / (1 + e^(−v)) bit for bit in the ordinary range (Python parity)', () => {
    expect(sigmoid(-0.2)).toBe(0.45016600268752216)
    expect(sigmoid(1.2)).toBe(0.7685247834990175)
    expect(sigmoid(0)).toBe(0.5)
  })

  it('inverts logit', () => {
    expect(sigmoid(logit(0.3, 1e-6))).toBeCloseTo(0.3, 15)
  })

  it('keeps tiny probabilities below the overflow switch instead of flushing them to 0 early', () => {
    expect(sigmoid(-720)).toBeGreaterThan(0)
    expect(sigmoid(-720)).toBeLessThan(1e-300)
  })
})

describe('clip and inverse', () => {
  it('clips into [0, 1]', () => {
    expect([clip01(-0.5), clip01(0.25), clip01(7)]).toEqual([0, 0.25, 1])
  })

  it('reports a non-finite model value instead of letting the clip hide it', () => {
    const out = new Float64Array(2)
    expect(inverseClipInto(new Float64Array([0.5, Infinity]), out, 2, 'identity')).toBe(false)
    expect(inverseClipInto(new Float64Array([0.5, 2]), out, 2, 'identity')).toBe(true)
    expect(Array.from(out)).toEqual([0.5, 1])
  })
})

describe('fixCrossing', () => {
  it('sorts each step across quantiles and says so', () => {
    // 3 quantiles × 2 steps: step 0 crossed, step 1 already sorted
    const band = new Float64Array([0.7, 0.1, 0.5, 0.2, 0.3, 0.3])
    expect(fixCrossing(band, 3, 2)).toBe(true)
    expect(rows(band, 3, 2)).toEqual([
      [0.3, 0.1],
      [0.5, 0.2],
      [0.7, 0.3],
    ])
  })

  it('leaves a sorted band (ties included) alone and reports nothing', () => {
    const band = new Float64Array([0.1, 0.2, 0.1, 0.5, 0.9, 0.5])
    expect(fixCrossing(band, 3, 2)).toBe(false)
    expect(Array.from(band)).toEqual([0.1, 0.2, 0.1, 0.5, 0.9, 0.5])
  })
})

describe('medianIndex', () => {
  it('picks the 0.5 quantile when present, wherever it is', () => {
    expect(medianIndex([0.1, 0.5, 0.9])).toBe(1)
    expect(medianIndex([0.5, 0.7, 0.9])).toBe(0)
    expect(medianIndex([0.1, 0.2, 0.5, 0.6])).toBe(2)
  })

  it('picks the middle one of an odd count without 0.5', () => {
    expect(medianIndex([0.1, 0.3, 0.7])).toBe(1)
    expect(medianIndex([0.2])).toBe(0)
  })

  it('picks the middle quantile nearer 0.5 for an even count, the lower on a tie', () => {
    expect(medianIndex([0.1, 0.4, 0.7, 0.9])).toBe(1)
    expect(medianIndex([0.1, 0.3, 0.6, 0.9])).toBe(2)
    expect(medianIndex([0.1, 0.25, 0.75, 0.9])).toBe(1)
    expect(medianIndex([0.1, 0.9])).toBe(0)
  })
})

describe('applyWidthGuards', () => {
  it('widens a zero-width band at 0.002 to exactly [0, 0.002, 0.02]', () => {
    const band = new Float64Array([0.002, 0.002, 0.002])
    expect(applyWidthGuards(band, 3, 1, 1, 0.02, 0.6)).toBe(WARN_INTERVAL_MIN_WIDTH_ENFORCED)
    expect(Array.from(band)).toEqual([0, 0.002, 0.02])
    expect((band[2] as number) - (band[0] as number)).toBe(0.02)
  })

  it('widens a zero-width band near 1 to exactly [1 − min, m, 1]', () => {
    const band = new Float64Array([0.999, 0.999, 0.999])
    applyWidthGuards(band, 3, 1, 1, 0.02, 0.6)
    expect(Array.from(band)).toEqual([1 - 0.02, 0.999, 1])
    expect((band[2] as number) - (band[0] as number)).toBeGreaterThanOrEqual(0.02)
  })

  it('centres a narrow band on its median in the middle of [0, 1]', () => {
    const band = new Float64Array([0.5, 0.5, 0.505])
    applyWidthGuards(band, 3, 1, 1, 0.02, 0.6)
    expect(Array.from(band)).toEqual([0.49, 0.5, 0.51])
  })

  it('reaches at least the minimum width even where rounding would fall an ulp short', () => {
    // 0.1 ± 0.01 rounds to a width of 0.01999999999999999 before the nudge
    expect(0.1 + 0.01 - (0.1 - 0.01)).toBeLessThan(0.02)
    const band = new Float64Array([0.1, 0.1, 0.1])
    applyWidthGuards(band, 3, 1, 1, 0.02, 0.6)
    const width = (band[2] as number) - (band[0] as number)
    // the top moved up one ulp: 0.11 − 0.09 was 0.01999999999999999
    expect(Array.from(band)).toEqual([0.09000000000000001, 0.1, 0.11000000000000001])
    expect(width).toBeGreaterThanOrEqual(0.02)
  })

  it('shrinks a wide band toward the median keeping its skew, to the maximum width', () => {
    const band = new Float64Array([0.1, 0.3, 0.9])
    expect(applyWidthGuards(band, 3, 1, 1, 0.02, 0.6)).toBe(WARN_INTERVAL_MAX_WIDTH_CLAMPED)
    // 0.3 − 0.2·0.75 and 0.3 + 0.6·0.75, as doubles
    expect(Array.from(band)).toEqual([0.15000000000000002, 0.3, 0.75])
    expect((band[2] as number) - (band[0] as number)).toBe(0.6)
    // skew: the median splits the band 1 : 3 before and after
    expect(((band[1] as number) - (band[0] as number)) / ((band[2] as number) - (band[1] as number))).toBeCloseTo(1 / 3, 15)
  })

  it('re-clamps inner quantiles into the new outer pair and never moves the median', () => {
    // 5 quantiles × 1 step; median row 2
    const band = new Float64Array([0, 0.1, 0.3, 0.85, 0.9])
    applyWidthGuards(band, 5, 1, 2, 0.02, 0.6)
    expect(Array.from(band)).toEqual([0.1, 0.1, 0.3, 0.7, 0.7])
  })

  it('guards every step separately and reports each kind once', () => {
    // 3 quantiles × 3 steps: narrow, fine, wide
    const band = new Float64Array([0.5, 0.4, 0.05, 0.5, 0.5, 0.5, 0.5, 0.6, 0.95])
    const mask = applyWidthGuards(band, 3, 3, 1, 0.02, 0.6)
    expect(warningNames(mask)).toEqual(['interval_min_width_enforced', 'interval_max_width_clamped'])
    // step 2: 0.5 ∓ 0.45·(0.6/0.9) is [0.19999999999999996, 0.8] in doubles, 0.6000000000000001
    // wide, so the top is nudged down one ulp to keep the width at most 0.6
    expect(rows(band, 3, 3)).toEqual([
      [0.49, 0.4, 0.19999999999999996],
      [0.5, 0.5, 0.5],
      [0.51, 0.6, 0.7999999999999999],
    ])
    expect(0.7999999999999999 - 0.19999999999999996).toBeLessThanOrEqual(0.6)
  })

  it('centres on the midpoint when the median row is an outer one (two quantiles)', () => {
    const band = new Float64Array([0.3, 0.31])
    applyWidthGuards(band, 2, 1, medianIndex([0.1, 0.9]), 0.02, 0.6)
    expect(band[0]).toBeCloseTo(0.295, 15)
    expect(band[1]).toBeCloseTo(0.315, 15)
    const wide = new Float64Array([0.1, 0.9])
    applyWidthGuards(wide, 2, 1, 0, 0.02, 0.6)
    expect(wide[0]).toBeCloseTo(0.2, 15)
    expect(wide[1]).toBeCloseTo(0.8, 15)
  })

  it('does not apply to a single quantile', () => {
    const band = new Float64Array([0.4, 0.4])
    expect(applyWidthGuards(band, 1, 2, 0, 0.02, 0.6)).toBe(0)
    expect(Array.from(band)).toEqual([0.4, 0.4])
  })

  it('caps a minimum width above 1 at the whole of [0, 1]', () => {
    const band = new Float64Array([0.3, 0.3, 0.3])
    applyWidthGuards(band, 3, 1, 1, 5, 10)
    expect(Array.from(band)).toEqual([0, 0.3, 1])
  })
})

describe('postprocessInto', () => {
  it('turns crossed logits into a sorted probability band with one crossing warning', () => {
    const quantiles = [0.1, 0.5, 0.9]
    // quantile-major: 0.1 → [1.2, 0.9], 0.5 → [0.1, 0.5], 0.9 → [−0.2, 0.1]
    const values = new Float64Array([1.2, 0.9, 0.1, 0.5, -0.2, 0.1])
    const out = new Float64Array(6)
    const mask = postprocessInto(values, quantiles, 2, 'logit', 0.02, 0.6, out)
    expect(rows(out, 3, 2)).toEqual([
      [0.45016600268752216, 0.52497918747894],
      [0.52497918747894, 0.6224593312018546],
      [0.7685247834990175, 0.7109495026250039],
    ])
    expect(warningNames(mask)).toEqual(['quantile_crossing_fixed'])
  })

  it('clips identity-space values instead of inverting them, then guards the width', () => {
    const out = new Float64Array(3)
    const mask = postprocessInto(new Float64Array([-0.3, 0.002, 0.01]), [0.1, 0.5, 0.9], 1, 'identity', 0.02, 0.6, out)
    expect(Array.from(out)).toEqual([0, 0.002, 0.02])
    expect(warningNames(mask)).toEqual(['interval_min_width_enforced'])
  })

  it('can work in place', () => {
    const values = new Float64Array([-800, 0, 800])
    postprocessInto(values, [0.1, 0.5, 0.9], 1, 'logit', 0.02, 0.6, values)
    // σ gives [0, 0.5, 1]; the width 1 is then clamped to 0.6 around 0.5: [0.2, 0.8] is
    // 0.6000000000000001 wide in doubles, so the top comes down by an ulp
    expect(Array.from(values)).toEqual([0.2, 0.5, 0.7999999999999999])
  })

  it('refuses a non-finite upstream value with a negative status', () => {
    const out = new Float64Array(3)
    expect(postprocessInto(new Float64Array([0, Number.NaN, 1]), [0.1, 0.5, 0.9], 1, 'logit', 0.02, 0.6, out)).toBeLessThan(0)
  })
})
