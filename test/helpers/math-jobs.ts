import fc from 'fast-check'
import type { BaselineJob, MathJob, MathResult, PostprocessJob } from '../../workers/protocol.js'

/**
 * fast-check arbitraries for math jobs, and the band invariants every result must satisfy.
 * Shared by the kernel properties (test/unit/workers) and the pool's inline-vs-thread check
 * (test/integration/compute).
 */

/** 1–20 ascending unique quantiles on a 0.001 grid (0.5 included often enough). */
export const quantilesArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 999 }), { minLength: 1, maxLength: 20 })
  .map((ints) => ints.sort((a, b) => a - b).map((i) => i / 1000))

/** [min, max] widths: the stock pair, or any 0 ≤ min ≤ 1 with max at least a hair above min. */
export const widthsArb: fc.Arbitrary<readonly [number, number]> = fc.oneof(
  fc.constant([0.02, 0.6] as const),
  fc
    .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-9, max: 1.5, noNaN: true }))
    .map(([min, extra]) => [min, min + extra] as const),
)

const finite = { noNaN: true, noDefaultInfinity: true } as const

/** Upstream values: ordinary logits, or any finite double at all (±1e308 included). */
function upstreamArb(n: number): fc.Arbitrary<Float64Array> {
  return fc.oneof(
    fc.float64Array({ minLength: n, maxLength: n, min: -30, max: 30, ...finite }),
    fc.float64Array({ minLength: n, maxLength: n, ...finite }),
  )
}

export const postprocessJobArb: fc.Arbitrary<PostprocessJob> = fc
  .record({ quantiles: quantilesArb, horizon: fc.integer({ min: 1, max: 24 }), space: fc.constantFrom('logit', 'identity' as const), widths: widthsArb })
  .chain(({ quantiles, horizon, space, widths }) =>
    upstreamArb(quantiles.length * horizon).map(
      (values): PostprocessJob => ({ kind: 'postprocess', space, quantiles, horizon, values, min_width: widths[0], max_width: widths[1] }),
    ),
  )

/** A series fit for its space: probabilities in logit space, moderate finite values in identity space. */
function seriesArb(space: 'logit' | 'identity', extreme: boolean): fc.Arbitrary<Float64Array> {
  const len = { minLength: 0, maxLength: 300 }
  if (space === 'logit') {
    // prices with plateaus and hard 0/1 prints, as prediction markets have
    return fc
      .array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.5)), len)
      .map((a) => Float64Array.from(a))
  }
  return extreme ? fc.float64Array({ ...len, ...finite }) : fc.float64Array({ ...len, min: -1e6, max: 1e6, ...finite })
}

function baselineJobArbFor(extreme: boolean): fc.Arbitrary<BaselineJob> {
  return fc
    .record({
      quantiles: quantilesArb,
      horizon: fc.integer({ min: 1, max: 24 }),
      space: fc.constantFrom('logit', 'identity' as const),
      method: fc.constantFrom('EWMA', 'KALMAN', 'ROLLING_QUANTILE' as const),
      eps: fc.oneof(fc.constant(1e-6), fc.double({ min: 1e-12, max: 0.01, noNaN: true })),
      alpha: fc.oneof(fc.constant(0.2), fc.double({ min: 0.001, max: 1, noNaN: true })),
      window: fc.oneof(fc.constant(64), fc.integer({ min: 2, max: 400 })),
      widths: widthsArb,
    })
    .chain(({ quantiles, horizon, space, method, eps, alpha, window, widths }) =>
      seriesArb(space, extreme).map(
        (y): BaselineJob => ({
          kind: 'baseline',
          method,
          space,
          eps,
          quantiles,
          horizon,
          y,
          min_width: widths[0],
          max_width: widths[1],
          ewma_alpha: alpha,
          rolling_window: window,
        }),
      ),
    )
}

/** Baseline jobs over series the request validator accepts with room to spare. */
export const baselineJobArb = baselineJobArbFor(false)
/** Baseline jobs over any finite series (identity space up to ±1.8e308). */
export const extremeBaselineJobArb = baselineJobArbFor(true)

export const mathJobArb: fc.Arbitrary<MathJob> = fc.oneof(postprocessJobArb, baselineJobArb, extremeBaselineJobArb)

/**
 * Throws (with the step) unless `values` is a valid band: every value in [0, 1], non-decreasing
 * across quantiles at each step, and with two or more quantiles, width ≥ min(minWidth, 1) and
 * ≤ maxWidth at each step.
 */
export function assertValidBand(values: Float64Array, job: MathJob): void {
  const nQ = job.quantiles.length
  const H = job.horizon
  if (values.length !== nQ * H) throw new Error(`band has ${values.length} values, expected ${nQ * H}`)
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (!(v >= 0 && v <= 1)) throw new Error(`value ${v} at ${i} is outside [0, 1]`)
  }
  for (let h = 0; h < H; h++) {
    for (let q = 1; q < nQ; q++) {
      if ((values[q * H + h] as number) < (values[(q - 1) * H + h] as number)) throw new Error(`quantiles cross at step ${h}, row ${q}`)
    }
    if (nQ < 2) continue
    const width = (values[(nQ - 1) * H + h] as number) - (values[h] as number)
    // Within the spacing of doubles in [0, 1] (≤ 2⁻⁵², so 2 ε covers both ends): a guard of
    // 5e-324 cannot make 0.5 and its neighbour closer than 1.1e-16 (fast-check found
    // min_width = max_width = 5e-324 giving a 1.1e-16 band, both guards met as far as doubles go).
    if (width < Math.min(job.min_width, 1) - WIDTH_SLACK) throw new Error(`width ${width} below ${job.min_width} at step ${h}`)
    if (width > job.max_width + WIDTH_SLACK) throw new Error(`width ${width} above ${job.max_width} at step ${h}`)
  }
}

/** Bitwise equality of two results (NaN payloads and −0 included). */
export function sameResult(a: MathResult, b: MathResult): boolean {
  if (a.ok !== b.ok || a.warnings !== b.warnings || a.error !== b.error) return false
  if (a.values === null || b.values === null) return a.values === b.values
  if (a.values.length !== b.values.length) return false
  const x = new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength)
  const y = new Uint8Array(b.values.buffer, b.values.byteOffset, b.values.byteLength)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

const WIDTH_SLACK = 2 * Number.EPSILON
