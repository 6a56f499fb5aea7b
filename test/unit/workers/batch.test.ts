import { describe, expect, it } from 'vitest'
import { computeJob, runPackedBatch } from '../../../workers/compute.js'
import { warmupJobs } from '../../../workers/math.worker.js'
import type { BaselineJob, MathJob, PostprocessJob } from '../../../workers/protocol.js'
import {
  BATCH_HEADER,
  BATCH_MAGIC,
  D_KIND,
  D_STATUS,
  DESC_STRIDE,
  KIND_SKIP,
  STATUS_INVALID_JOB,
  checkJob,
  isPackedBatch,
  packBatch,
  packedLength,
  readResult,
} from '../../../workers/protocol.js'

const POST: PostprocessJob = {
  kind: 'postprocess',
  space: 'logit',
  quantiles: [0.1, 0.5, 0.9],
  horizon: 2,
  values: new Float64Array([1.2, 0.9, 0.1, 0.5, -0.2, 0.1]),
  min_width: 0.02,
  max_width: 0.6,
}

const BASE: BaselineJob = {
  kind: 'baseline',
  method: 'EWMA',
  space: 'logit',
  eps: 1e-6,
  quantiles: [0.1, 0.5, 0.9],
  horizon: 2,
  y: new Float64Array([0.002]),
  min_width: 0.02,
  max_width: 0.6,
  ewma_alpha: 0.2,
  rolling_window: 64,
}

describe('computeJob', () => {
  it('post-processes the spec example with one crossing warning', () => {
    const r = computeJob(POST)
    expect(r.ok).toBe(true)
    expect(Array.from(r.values ?? [])).toEqual([
      0.45016600268752216, 0.52497918747894, 0.52497918747894, 0.6224593312018546, 0.7685247834990175, 0.7109495026250039,
    ])
    expect(r.warnings).toBe(1)
  })

  it('answers a baseline with a band the caller owns', () => {
    const r = computeJob(BASE)
    expect(r).toEqual({ ok: true, values: new Float64Array([0, 0, 0.002, 0.002, 0.02, 0.02]), warnings: 2, error: null })
  })

  it('names the failure without exception text', () => {
    expect(computeJob({ ...POST, values: new Float64Array(5) })).toEqual({ ok: false, values: null, warnings: 0, error: 'invalid_job' })
    expect(computeJob({ ...POST, values: new Float64Array([0, 0, Infinity, 0, 0, 0]) }).error).toBe('non_finite_input')
    expect(computeJob({ ...BASE, y: new Float64Array([0.1, Number.NaN]) }).error).toBe('non_finite_input')
    expect(computeJob({ ...BASE, space: 'identity', y: new Float64Array([1e200, -1e200, 1e200]) }).error).toBe('non_finite_output')
  })
})

describe('checkJob', () => {
  const invalid: [string, MathJob][] = [
    ['unsorted quantiles', { ...POST, quantiles: [0.5, 0.1, 0.9] }],
    ['a quantile of 1', { ...POST, quantiles: [0.1, 0.5, 1] }],
    ['no quantiles', { ...POST, quantiles: [], values: new Float64Array(0) }],
    ['a fractional horizon', { ...POST, horizon: 1.5 }],
    ['a zero horizon', { ...POST, horizon: 0, values: new Float64Array(0) }],
    ['max below min', { ...POST, min_width: 0.3, max_width: 0.2 }],
    ['a NaN min width', { ...POST, min_width: Number.NaN }],
    ['an unknown space', { ...POST, space: 'log' as 'logit' }],
    ['an unknown method', { ...BASE, method: 'ARIMA' as 'EWMA' }],
    ['eps of 0', { ...BASE, eps: 0 }],
    ['alpha above 1', { ...BASE, ewma_alpha: 1.5 }],
    ['a window of 1', { ...BASE, rolling_window: 1 }],
  ]
  it.each(invalid)('rejects %s', (_name, job) => {
    expect(checkJob(job)).toBe(STATUS_INVALID_JOB)
  })

  it('accepts the stock jobs and an unbounded max width', () => {
    expect(checkJob(POST)).toBe(0)
    expect(checkJob(BASE)).toBe(0)
    expect(checkJob({ ...POST, max_width: Infinity })).toBe(0)
  })
})

describe('packed batch', () => {
  it('lays out header, descriptors and data, and computes every job in place', () => {
    const jobs = [POST, BASE]
    const len = packedLength(jobs, 2)
    // header + 2 descriptors + (3 quantiles + 6 inputs + 6 outputs) + (3 + 1 + 6)
    expect(len).toBe(BATCH_HEADER + 2 * DESC_STRIDE + 15 + 10)
    const buf = runPackedBatch(packBatch(jobs, 2, new Float64Array(len)))
    expect(isPackedBatch(buf, 2)).toBe(true)
    expect(buf[0]).toBe(BATCH_MAGIC)
    expect(readResult(buf, 0)).toEqual(computeJob(POST))
    expect(readResult(buf, 1)).toEqual(computeJob(BASE))
  })

  it('copies each band out, so the buffer can be reused', () => {
    const buf = runPackedBatch(packBatch([BASE], 1, new Float64Array(packedLength([BASE], 1))))
    const r = readResult(buf, 0)
    buf.fill(7)
    expect(Array.from(r.values ?? [])).toEqual([0, 0, 0.002, 0.002, 0.02, 0.02])
  })

  it('packs an invalid job as a skipped descriptor with its status, and no data', () => {
    const bad = { ...POST, horizon: -1 }
    const jobs = [bad, BASE]
    expect(packedLength(jobs, 2)).toBe(BATCH_HEADER + 2 * DESC_STRIDE + 3 + 1 + 6)
    const buf = runPackedBatch(packBatch(jobs, 2, new Float64Array(packedLength(jobs, 2))))
    expect(buf[BATCH_HEADER + D_KIND]).toBe(KIND_SKIP)
    expect(buf[BATCH_HEADER + D_STATUS]).toBe(STATUS_INVALID_JOB)
    expect(readResult(buf, 0).error).toBe('invalid_job')
    expect(readResult(buf, 1).ok).toBe(true)
  })

  it('works in a larger, reused buffer with stale contents', () => {
    const big = new Float64Array(10_000).fill(Number.NaN)
    const buf = runPackedBatch(packBatch([POST], 1, big))
    expect(readResult(buf, 0)).toEqual(computeJob(POST))
  })

  it('recognises only its own batches', () => {
    expect(isPackedBatch(new Float64Array([1, 1]), 1)).toBe(false)
    expect(isPackedBatch([BATCH_MAGIC, 0], 0)).toBe(false)
    expect(isPackedBatch(packBatch([POST], 1, new Float64Array(packedLength([POST], 1))), 2)).toBe(false)
  })

  it('warm-up jobs cover every kind and method and all succeed', () => {
    const jobs = warmupJobs()
    expect(jobs.map((j) => (j.kind === 'baseline' ? j.method : j.kind))).toEqual(['postprocess', 'EWMA', 'KALMAN', 'ROLLING_QUANTILE'])
    for (const j of jobs) expect(computeJob(j).ok).toBe(true)
  })
})
