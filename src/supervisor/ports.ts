import type { ForecastRequest } from '../request/types.js'
import type { UpstreamJob } from '../io/types.js'

/**
 * What the supervisor needs from the threads around it, handed to its constructor. The runner
 * wires the real ones (the Piscina math pool, the I/O actor); the supervisor's unit tests wire
 * in-process ones. Results come back as messages: `Supervisor.onMath(ticket, …)` and
 * `Supervisor.onUpstream(outcome)`.
 */

/** A band computed by the math pool: quantile-major `nQ × H` probabilities + warning bits. */
export interface BandResult {
  readonly ok: boolean
  readonly values: Float64Array
  readonly warnings: number
}

export interface MathPort {
  /**
   * The baseline band now, when this turn's math would run inline anyway; null when the turn is
   * big enough for a thread — then call `baseline` and the band arrives through `onMath`.
   */
  tryBaseline(req: ForecastRequest): BandResult | null
  /** The baseline band for `req` (EWMA or the configured method), delivered to `onMath`. */
  baseline(ticket: number, req: ForecastRequest): void
  /** Post-process upstream values (model space, quantile-major), delivered to `onMath`. */
  postprocess(ticket: number, req: ForecastRequest, values: Float64Array): void
  /** The baseline band computed synchronously on this thread (for answers that cannot wait). */
  baselineNow(req: ForecastRequest): BandResult
}

export interface UpstreamPort {
  submit(job: UpstreamJob): void
  /**
   * Nobody waits for `ticket` any more: if its job is still queued in its lane it is taken back
   * and answered `withdrawn`; if it was already sent, its real outcome comes as usual.
   */
  cancel(ticket: number): void
}
