import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { computeJob, runPackedBatch } from '../../../workers/compute.js'
import type { MathJob } from '../../../workers/protocol.js'
import { packBatch, packedLength, readResult } from '../../../workers/protocol.js'
import {
  assertValidBand,
  baselineJobArb,
  extremeBaselineJobArb,
  mathJobArb,
  postprocessJobArb,
  sameResult,
} from '../../helpers/math-jobs.js'

describe('math properties (fast-check)', () => {
  it('repairs any finite upstream band into a valid band', () => {
    fc.assert(
      fc.property(postprocessJobArb, (job) => {
        const result = computeJob(job)
        expect(result.ok).toBe(true)
        assertValidBand(result.values as Float64Array, job)
      }),
      { numRuns: 2000 },
    )
  })

  it('builds a valid baseline band from any series the validator accepts, by every method', () => {
    fc.assert(
      fc.property(baselineJobArb, (job) => {
        const result = computeJob(job)
        expect(result.ok).toBe(true)
        assertValidBand(result.values as Float64Array, job)
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws for any finite series; an overflowing fit is reported, not clipped', () => {
    fc.assert(
      fc.property(extremeBaselineJobArb, (job) => {
        const result = computeJob(job)
        if (result.ok) assertValidBand(result.values, job)
        else expect(result.error).toBe('non_finite_output')
      }),
      { numRuns: 1000 },
    )
  })

  it('answers a malformed job with invalid_job instead of throwing', () => {
    const junk = fc.record({
      kind: fc.constantFrom('postprocess', 'baseline', 'other'),
      method: fc.constantFrom('EWMA', 'ARIMA', undefined),
      space: fc.constantFrom('logit', 'identity', 'log'),
      eps: fc.oneof(fc.double(), fc.constant(1e-6)),
      quantiles: fc.oneof(fc.array(fc.double(), { maxLength: 4 }), fc.constant([0.1, 0.5, 0.9])),
      horizon: fc.oneof(fc.integer({ min: -3, max: 5 }), fc.double(), fc.constant(1e9)),
      values: fc.oneof(fc.float64Array({ maxLength: 8 }), fc.constant(null)),
      y: fc.oneof(fc.float64Array({ maxLength: 8 }), fc.constant([0.5])),
      min_width: fc.double(),
      max_width: fc.double(),
      ewma_alpha: fc.double(),
      rolling_window: fc.oneof(fc.integer({ min: -2, max: 70 }), fc.double()),
    })
    fc.assert(
      fc.property(junk, (raw) => {
        const job = raw as unknown as MathJob
        const result = computeJob(job)
        if (result.ok) assertValidBand(result.values, job)
        else expect(['invalid_job', 'non_finite_input', 'non_finite_output']).toContain(result.error)
        const buf = packBatch([job], 1, new Float64Array(packedLength([job], 1)))
        expect(sameResult(readResult(runPackedBatch(buf), 0), result)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('gives bit-identical results inline and through a packed batch', () => {
    fc.assert(
      fc.property(fc.array(mathJobArb, { minLength: 1, maxLength: 12 }), (jobs) => {
        const buf = runPackedBatch(packBatch(jobs, jobs.length, new Float64Array(packedLength(jobs, jobs.length))))
        for (let i = 0; i < jobs.length; i++) {
          expect(sameResult(readResult(buf, i), computeJob(jobs[i] as MathJob))).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })
})
