import type { UpstreamJob } from '../types.js'

/** Where a job is: waiting in its lane's queue, carried by a request, or answered. */
export type PendingState = 'queued' | 'sent' | 'settled'

/**
 * A job as the I/O actor holds it: the job, when it arrived in the actor (for `upstream_ms`),
 * its lane's bookkeeping, and its own count of HTTP requests and retries (members of one group
 * can leave it at different attempts, forecast-call.ts). Every field is set here: one shape.
 */
export class PendingJob {
  readonly job: UpstreamJob
  readonly receivedAt: number
  /** The batching key (batch-key.ts), computed once. */
  readonly key: string
  state: PendingState
  /** Set once its outcome is out; a job is answered exactly once. */
  settled: boolean
  /** HTTP requests that carried this job (a route switch adds one, as does a retry). */
  attempts: number
  /** Retries made for this job (what its `max_retries` is compared with). */
  retries: number
  /** The lane it waits in (set when queued). */
  lane: { withdraw(p: PendingJob): void } | null

  constructor(job: UpstreamJob, receivedAt: number, key: string) {
    this.job = job
    this.receivedAt = receivedAt
    this.key = key
    this.state = 'queued'
    this.settled = false
    this.attempts = 0
    this.retries = 0
    this.lane = null
  }
}
