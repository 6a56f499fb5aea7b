import type { BaselineMethod, TransformSpace } from '../src/config/types.js'
import { baselineInto } from './baseline.js'
import { postprocessInto } from './postprocess.js'
import type { MathJob, MathResult } from './protocol.js'
import {
  BATCH_HEADER,
  D_ALPHA,
  D_EPS,
  D_HORIZON,
  D_IN_LEN,
  D_IN_OFF,
  D_KIND,
  D_MAX_W,
  D_METHOD,
  D_MIN_W,
  D_NQ,
  D_OUT_OFF,
  D_Q_OFF,
  D_SPACE,
  D_STATUS,
  D_WINDOW,
  DESC_STRIDE,
  KIND_POSTPROCESS,
  KIND_SKIP,
  METHODS,
  SPACES,
  STATUS_EXCEPTION,
  checkJob,
  resultOf,
} from './protocol.js'

/**
 * The one entry into the kernels, for both paths: `computeJob` (inline, on the caller's thread)
 * and `runPackedBatch` (a math thread, or the main thread in tests and benchmarks) end in
 * `runKernel` with the same numbers, so results are bit-identical wherever the math ran.
 */
function runKernel(
  postprocess: boolean,
  space: TransformSpace,
  method: BaselineMethod,
  eps: number,
  alpha: number,
  window: number,
  quantiles: ArrayLike<number>,
  horizon: number,
  input: Float64Array,
  minWidth: number,
  maxWidth: number,
  out: Float64Array,
): number {
  try {
    return postprocess
      ? postprocessInto(input, quantiles, horizon, space, minWidth, maxWidth, out)
      : baselineInto(input, method, space, eps, alpha, window, quantiles, horizon, minWidth, maxWidth, out)
  } catch {
    // Unreachable for a checked job (the kernels only index typed arrays); kept so that a bug
    // costs one job an error, not a thread or a batch.
    return STATUS_EXCEPTION
  }
}

/** Computes one job on the calling thread. Never throws. */
export function computeJob(job: MathJob): MathResult {
  const status = checkJob(job)
  if (status !== 0) return resultOf(status, null)
  const out = new Float64Array(job.quantiles.length * job.horizon)
  const result =
    job.kind === 'postprocess'
      ? runKernel(true, job.space, 'EWMA', 0, 0, 0, job.quantiles, job.horizon, job.values, job.min_width, job.max_width, out)
      : runKernel(false, job.space, job.method, job.eps, job.ewma_alpha, job.rolling_window, job.quantiles, job.horizon, job.y, job.min_width, job.max_width, out)
  return resultOf(result, result >= 0 ? out : null)
}

/** Computes every job of a packed batch in place (outputs and statuses). Never throws. */
export function runPackedBatch(buf: Float64Array): Float64Array {
  const count = buf[1] as number
  for (let i = 0; i < count; i++) {
    const d = BATCH_HEADER + DESC_STRIDE * i
    const kind = buf[d + D_KIND] as number
    if (kind === KIND_SKIP) continue
    const nQ = buf[d + D_NQ] as number
    const horizon = buf[d + D_HORIZON] as number
    const qOff = buf[d + D_Q_OFF] as number
    const inOff = buf[d + D_IN_OFF] as number
    const outOff = buf[d + D_OUT_OFF] as number
    buf[d + D_STATUS] = runKernel(
      kind === KIND_POSTPROCESS,
      SPACES[buf[d + D_SPACE] as number] ?? 'logit',
      METHODS[buf[d + D_METHOD] as number] ?? 'EWMA',
      buf[d + D_EPS] as number,
      buf[d + D_ALPHA] as number,
      buf[d + D_WINDOW] as number,
      buf.subarray(qOff, qOff + nQ),
      horizon,
      buf.subarray(inOff, inOff + (buf[d + D_IN_LEN] as number)),
      buf[d + D_MIN_W] as number,
      buf[d + D_MAX_W] as number,
      buf.subarray(outOff, outOff + nQ * horizon),
    )
  }
  return buf
}
