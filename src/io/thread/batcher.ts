import type { Clock, TimerHandle } from '../../clock/clock.js'
import type { UpstreamJob } from '../types.js'

/**
 * Multiplexing (SPEC §7): jobs that share model, horizon, quantiles, freq and options and arrive
 * within `windowMs` of the first one go upstream as one multi-series request. tollama spends
 * ~42 ms per request whatever it carries and serves one request per model family at a time, so
 * 32 series in one request take ~71 ms where 32 single requests queue for ~1.4 s
 * (tollama-api.md; perf/io/multiplex.bench.ts measures the gain against the simulator).
 *
 * A group is flushed when its window ends, at once when it holds `maxSeries` jobs, at once
 * when waiting out the window would shorten a member's first attempt (its deadline is too close
 * to spare the window), and at the end of the arriving message when no upstream request is in
 * flight (`flushIfIdle`): an idle upstream gains nothing from the wait, while a busy one (tollama
 * serves one request at a time) is where the window pays — measured by perf/overhead: the lone
 * request's 2 ms wait was the whole of the daemon's added p50. `windowMs` 0 sends every job alone,
 * immediately.
 */

/**
 * A job as the actor holds it: the job, when it arrived in the actor (for `upstream_ms`), and
 * its own count of HTTP requests and retries (members of one group can leave it at different
 * attempts, forecast-call.ts).
 */
export class PendingJob {
  readonly job: UpstreamJob
  readonly receivedAt: number
  /** Set once its outcome is out; a job is answered exactly once. */
  settled: boolean
  /** HTTP requests that carried this job (a route switch adds one, as does a retry). */
  attempts: number
  /** Retries made for this job (what its `max_retries` is compared with). */
  retries: number

  constructor(job: UpstreamJob, receivedAt: number) {
    this.job = job
    this.receivedAt = receivedAt
    this.settled = false
    this.attempts = 0
    this.retries = 0
  }
}

export interface BatcherOptions {
  readonly clock: Clock
  readonly windowMs: number
  readonly maxSeries: number
  /** Kept free before each deadline for post-processing (config `postprocess_budget_ms`). */
  readonly postprocessBudgetMs: number
  /** Receives each flushed group (1..maxSeries jobs, arrival order). */
  readonly flush: (group: PendingJob[]) => void
}

class OpenGroup {
  readonly key: string
  readonly jobs: PendingJob[]
  timer: TimerHandle | null

  constructor(key: string) {
    this.key = key
    this.jobs = []
    this.timer = null
  }
}

/** The grouping key: everything that must be equal for jobs to share one tollama request. */
export function batchKey(job: UpstreamJob): string {
  let options = ''
  for (const _ in job.params) {
    options = JSON.stringify(job.params)
    break
  }
  return job.model + '\u0000' + job.horizon + '\u0000' + job.quantiles.join(',') + '\u0000' + job.freq + '\u0000' + options
}

export class Batcher {
  readonly #clock: Clock
  readonly #windowMs: number
  readonly #maxSeries: number
  readonly #postprocessBudgetMs: number
  readonly #flush: (group: PendingJob[]) => void
  readonly #open = new Map<string, OpenGroup>()
  #pending = 0

  constructor(opts: BatcherOptions) {
    if (!(opts.windowMs >= 0)) throw new RangeError(`batch window should be >= 0 ms, got ${opts.windowMs}`)
    if (!(Number.isInteger(opts.maxSeries) && opts.maxSeries >= 1)) {
      throw new RangeError(`batch max series should be an integer >= 1, got ${opts.maxSeries}`)
    }
    this.#clock = opts.clock
    this.#windowMs = opts.windowMs
    this.#maxSeries = opts.maxSeries
    this.#postprocessBudgetMs = opts.postprocessBudgetMs
    this.#flush = opts.flush
  }

  /** Jobs waiting in open groups. */
  get pending(): number {
    return this.#pending
  }

  add(p: PendingJob): void {
    if (this.#windowMs === 0 || this.#maxSeries === 1) {
      this.#flush([p])
      return
    }
    const key = batchKey(p.job)
    let group = this.#open.get(key)
    if (group === undefined) {
      group = new OpenGroup(key)
      this.#open.set(key, group)
    }
    group.jobs.push(p)
    this.#pending++
    if (group.jobs.length >= this.#maxSeries || this.#cannotWait(p)) {
      this.#emit(group)
    } else if (group.timer === null) {
      const g = group
      group.timer = this.#clock.setTimeout(() => {
        g.timer = null
        this.#emit(g)
      }, this.#windowMs)
    }
  }

  /**
   * End of one arriving message of jobs: if the upstream was idle when it arrived (`idle`), send
   * every waiting group now rather than at the end of its window.
   */
  flushIfIdle(idle: boolean): void {
    if (idle) this.flushAll()
  }

  /** Sends every waiting group now, cancelling the windows (also on close: queued jobs go upstream). */
  flushAll(): void {
    if (this.#open.size === 0) return
    for (const group of [...this.#open.values()]) this.#emit(group)
  }

  /** Waiting the window would cut into the job's first attempt: send its group now. */
  #cannotWait(p: PendingJob): boolean {
    const slack = p.job.deadline - this.#clock.now() - this.#postprocessBudgetMs - this.#windowMs
    return slack < p.job.attempt_timeout_ms
  }

  #emit(group: OpenGroup): void {
    if (this.#open.get(group.key) !== group) return
    if (group.timer !== null) {
      this.#clock.clearTimeout(group.timer)
      group.timer = null
    }
    this.#open.delete(group.key)
    this.#pending -= group.jobs.length
    this.#flush(group.jobs)
  }
}
