import type { BaselineMethod, TransformSpace } from '../src/config/types.js'

/**
 * The math jobs, their results, and the packed batch that carries one event-loop turn's jobs to a
 * math thread and back (SPEC §6). Shared by the pool (src/compute/math-pool.ts) and the worker
 * (workers/math.worker.ts), and by the inline path, which runs the very same kernels.
 *
 * Bands are Float64Arrays of `nQ * H` values, quantile-major (row q = index in the ascending
 * quantile list, column h = horizon step).
 */

/** Post-process an upstream answer: inverse transform, clip, crossing fix, width guards. */
export interface PostprocessJob {
  readonly kind: 'postprocess'
  readonly space: TransformSpace
  /** Ascending, unique, each in (0, 1). */
  readonly quantiles: readonly number[]
  readonly horizon: number
  /** `quantiles.length * horizon` upstream values in model space (logit or identity), quantile-major. */
  readonly values: Float64Array
  readonly min_width: number
  readonly max_width: number
}

/** A local baseline band from the raw series. */
export interface BaselineJob {
  readonly kind: 'baseline'
  readonly method: BaselineMethod
  readonly space: TransformSpace
  /** The logit clamp, and the variance floor of the Gaussian baselines. */
  readonly eps: number
  /** Ascending, unique, each in (0, 1). */
  readonly quantiles: readonly number[]
  readonly horizon: number
  /** The series as given: probabilities in logit space, any finite values in identity space. */
  readonly y: Float64Array
  readonly min_width: number
  readonly max_width: number
  /** EWMA smoothing factor in (0, 1]. */
  readonly ewma_alpha: number
  /** ROLLING_QUANTILE window (points), an integer ≥ 2. */
  readonly rolling_window: number
}

export type MathJob = PostprocessJob | BaselineJob

/**
 * Why a job produced no band. The caller maps a failed baseline to `baseline_error`; none of these
 * carries exception text.
 */
export type MathError = 'invalid_job' | 'non_finite_input' | 'non_finite_output' | 'exception'

export interface MathSuccess {
  readonly ok: true
  /** The repaired band, `nQ * H` values in [0, 1], quantile-major; owned by the receiver. */
  readonly values: Float64Array
  /** Warning bitmask (workers/warnings.ts). */
  readonly warnings: number
  readonly error: null
}

export interface MathFailure {
  readonly ok: false
  readonly values: null
  readonly warnings: 0
  readonly error: MathError
}

/** Both variants have the same four fields in the same order (one hidden class). */
export type MathResult = MathSuccess | MathFailure

/** Kernel status: ≥ 0 is the warning mask of a success, < 0 one of these. */
export const STATUS_INVALID_JOB = -1
export const STATUS_NON_FINITE_INPUT = -2
export const STATUS_NON_FINITE_OUTPUT = -3
export const STATUS_EXCEPTION = -4

const ERROR_OF_STATUS: readonly MathError[] = ['invalid_job', 'non_finite_input', 'non_finite_output', 'exception']

export function resultOf(status: number, values: Float64Array | null): MathResult {
  if (status >= 0 && values !== null) return { ok: true, values, warnings: status, error: null }
  const error = ERROR_OF_STATUS[-status - 1] ?? 'exception'
  return { ok: false, values: null, warnings: 0, error }
}

// ---- limits a job must respect (anything larger is a caller bug, answered `invalid_job`) --------

/** Wider than the wire contract (horizon ≤ 1000, ≤ 20 quantiles); only guards memory. */
export const MAX_HORIZON = 100_000
export const MAX_QUANTILES = 1000
export const MAX_BAND_VALUES = 1_000_000
export const MAX_SERIES_POINTS = 10_000_000

/** Returns a negative status if the job cannot be computed, else 0. Never throws. */
export function checkJob(job: MathJob): number {
  const q = job.quantiles
  const H = job.horizon
  if (!Array.isArray(q) || q.length < 1 || q.length > MAX_QUANTILES) return STATUS_INVALID_JOB
  if (!Number.isInteger(H) || H < 1 || H > MAX_HORIZON || q.length * H > MAX_BAND_VALUES) return STATUS_INVALID_JOB
  let prev = 0
  for (let i = 0; i < q.length; i++) {
    const v = q[i]
    if (typeof v !== 'number' || !(v > prev) || !(v < 1)) return STATUS_INVALID_JOB
    prev = v
  }
  if (job.space !== 'logit' && job.space !== 'identity') return STATUS_INVALID_JOB
  // max_width may be Infinity (no upper guard); min_width must be a real width.
  if (!(job.min_width >= 0) || !Number.isFinite(job.min_width) || !(job.max_width >= job.min_width)) return STATUS_INVALID_JOB
  if (job.kind === 'postprocess') {
    if (!(job.values instanceof Float64Array) || job.values.length !== q.length * H) return STATUS_INVALID_JOB
    return 0
  }
  if (job.kind !== 'baseline') return STATUS_INVALID_JOB
  if (job.method !== 'EWMA' && job.method !== 'KALMAN' && job.method !== 'ROLLING_QUANTILE') return STATUS_INVALID_JOB
  if (!(job.y instanceof Float64Array) || job.y.length > MAX_SERIES_POINTS) return STATUS_INVALID_JOB
  if (!(job.eps > 0 && job.eps < 0.5)) return STATUS_INVALID_JOB
  if (!(job.ewma_alpha > 0 && job.ewma_alpha <= 1)) return STATUS_INVALID_JOB
  if (!Number.isInteger(job.rolling_window) || job.rolling_window < 2) return STATUS_INVALID_JOB
  return 0
}

// ---- the packed batch ------------------------------------------------------------------------
//
// One Float64Array, transferred to the worker and back (no copy either way):
//
//   [MAGIC, count, descriptor × count, data...]
//
// Each descriptor is DESC_STRIDE numbers; the data region holds, per job, its quantiles, its input
// (upstream values or series) and room for its output band. The worker writes every output band
// and the descriptor's status in place. A job that failed `checkJob` is packed with its status
// already set and no data; the worker skips it.

export const BATCH_MAGIC = 0x75f3
export const BATCH_HEADER = 2
export const DESC_STRIDE = 16

export const D_KIND = 0
export const D_SPACE = 1
export const D_METHOD = 2
export const D_EPS = 3
export const D_ALPHA = 4
export const D_WINDOW = 5
export const D_HORIZON = 6
export const D_NQ = 7
export const D_Q_OFF = 8
export const D_IN_OFF = 9
export const D_IN_LEN = 10
export const D_OUT_OFF = 11
export const D_MIN_W = 12
export const D_MAX_W = 13
export const D_STATUS = 14

export const KIND_SKIP = 0
export const KIND_POSTPROCESS = 1
export const KIND_BASELINE = 2

export const SPACES: readonly TransformSpace[] = ['logit', 'identity']
export const METHODS: readonly BaselineMethod[] = ['EWMA', 'KALMAN', 'ROLLING_QUANTILE']

/** Numbers of the packed batch for `jobs`, or 0 if a job makes it impossible (never, after checkJob). */
export function packedLength(jobs: readonly MathJob[], count: number): number {
  let n = BATCH_HEADER + DESC_STRIDE * count
  for (let i = 0; i < count; i++) {
    const job = jobs[i] as MathJob
    if (checkJob(job) !== 0) continue
    const nQ = job.quantiles.length
    n += nQ + (job.kind === 'postprocess' ? job.values.length : job.y.length) + nQ * job.horizon
  }
  return n
}

/**
 * Packs the first `count` jobs into `buf` (which must hold at least `packedLength(jobs, count)`
 * numbers; a reused buffer may be longer). Returns `buf`.
 */
export function packBatch(jobs: readonly MathJob[], count: number, buf: Float64Array): Float64Array {
  buf[0] = BATCH_MAGIC
  buf[1] = count
  let data = BATCH_HEADER + DESC_STRIDE * count
  for (let i = 0; i < count; i++) {
    const job = jobs[i] as MathJob
    const d = BATCH_HEADER + DESC_STRIDE * i
    const status = checkJob(job)
    if (status !== 0) {
      buf.fill(0, d, d + DESC_STRIDE)
      buf[d + D_KIND] = KIND_SKIP
      buf[d + D_STATUS] = status
      continue
    }
    const q = job.quantiles
    const nQ = q.length
    buf[d + D_SPACE] = job.space === 'logit' ? 0 : 1
    buf[d + D_HORIZON] = job.horizon
    buf[d + D_NQ] = nQ
    buf[d + D_MIN_W] = job.min_width
    buf[d + D_MAX_W] = job.max_width
    buf[d + D_STATUS] = 0
    buf[d + D_Q_OFF] = data
    for (let k = 0; k < nQ; k++) buf[data + k] = q[k] as number
    data += nQ
    let input: Float64Array
    if (job.kind === 'postprocess') {
      buf[d + D_KIND] = KIND_POSTPROCESS
      buf[d + D_METHOD] = 0
      buf[d + D_EPS] = 0
      buf[d + D_ALPHA] = 0
      buf[d + D_WINDOW] = 0
      input = job.values
    } else {
      buf[d + D_KIND] = KIND_BASELINE
      buf[d + D_METHOD] = METHODS.indexOf(job.method)
      buf[d + D_EPS] = job.eps
      buf[d + D_ALPHA] = job.ewma_alpha
      buf[d + D_WINDOW] = job.rolling_window
      input = job.y
    }
    buf[d + D_IN_OFF] = data
    buf[d + D_IN_LEN] = input.length
    buf.set(input, data)
    data += input.length
    buf[d + D_OUT_OFF] = data
    data += nQ * job.horizon
  }
  return buf
}

/** True if `buf` looks like a batch this version packed (a worker answering garbage is a crash). */
export function isPackedBatch(buf: unknown, count: number): buf is Float64Array {
  return buf instanceof Float64Array && buf.length >= BATCH_HEADER + DESC_STRIDE * count && buf[0] === BATCH_MAGIC && buf[1] === count
}

/** Job `i`'s result from a computed batch; the band is copied out so the batch buffer can be reused. */
export function readResult(buf: Float64Array, i: number): MathResult {
  const d = BATCH_HEADER + DESC_STRIDE * i
  const status = buf[d + D_STATUS] as number
  if (status < 0 || buf[d + D_KIND] === KIND_SKIP) return resultOf(status < 0 ? status : STATUS_EXCEPTION, null)
  const out = buf[d + D_OUT_OFF] as number
  const len = (buf[d + D_NQ] as number) * (buf[d + D_HORIZON] as number)
  return resultOf(status, buf.slice(out, out + len))
}
