import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import { computeJob } from '../../workers/compute.js'
import type { BaselineJob, MathJob, MathResult, PostprocessJob } from '../../workers/protocol.js'
import { isPackedBatch, packBatch, packedLength, readResult } from '../../workers/protocol.js'
import { TsfmError, quote } from '../errors.js'
import { distFile } from '../paths.js'

export type { BaselineJob, MathJob, MathResult, PostprocessJob } from '../../workers/protocol.js'

/**
 * The math pool (SPEC §6 "Where the math runs"): post-processing and baseline jobs submitted in
 * one event-loop turn are flushed together (one `setImmediate` per turn) and either computed
 * inline — when the turn produced fewer than `inlineThreshold` jobs — or packed into one
 * Float64Array, transferred to a Piscina thread, computed in place and transferred back. Both
 * paths run the same kernels (workers/compute.ts), so results are bit-identical.
 *
 * Results come back as messages: `sink(ticket, result)`, exactly once per submitted ticket, always
 * asynchronously (never from inside `submit*`). No promise or closure per job.
 *
 * Crashes: a batch whose task rejects (its thread died, or answered garbage) is re-run once on the
 * pool — Piscina has replaced the dead thread by then — and, if that fails too, computed inline.
 * Nothing is delivered before a batch succeeds, so no ticket is answered twice or lost.
 *
 * Close: `close()` computes jobs not yet dispatched inline, waits for the batches on the threads,
 * then destroys the pool. Jobs submitted while closing or after are still answered — computed
 * inline in the next flush — because a draining runner still owes fallback answers (SPEC §2.3).
 */

export type MathSink = (ticket: number, result: MathResult) => void

export interface MathPoolOptions {
  /** Math threads; 0 = one per spare core (availableParallelism() − 1), at least 1. */
  threads: number
  /** A turn's batch with fewer jobs than this is computed inline; 0 = always use the threads. */
  inlineThreshold: number
  sink: MathSink
  /**
   * Batches on the threads at most (default 2 per thread). Beyond it, jobs wait for the next flush
   * after a batch returns and travel together — backpressure that grows batches instead of queues.
   */
  maxQueue?: number
  /** Called with anything the sink throws (delivery goes on); default: rethrown in a microtask. */
  onError?: (error: unknown) => void
  /** Worker entry; default `dist/workers/math.worker.js`. Tests substitute a crashing one. */
  workerFile?: string
  /** Passed to every thread as `workerData` (tests only). */
  workerData?: unknown
  /** Warm-up rounds per thread at start (default 200: enough for V8 to optimise the kernels). */
  warmupRounds?: number
}

export interface MathPoolStats {
  /** Batches sent to the threads (re-runs included). */
  batches: number
  /** Turns computed inline (below the threshold, closing, or after a failed re-run). */
  inlineBatches: number
  /** Jobs submitted. */
  jobs: number
  /** Batches that failed on the threads (a thread died or answered garbage). */
  crashes: number
  /** Threads started to replace dead ones. */
  restarts: number
  /** Jobs submitted and not yet answered. */
  queued: number
}

type PoolState = 'open' | 'closing' | 'closed'

/** One turn's jobs on their way through the threads; kept until answered so they can be re-run. */
class PoolBatch {
  readonly tickets: number[]
  readonly jobs: MathJob[]
  readonly attempt: number

  constructor(tickets: number[], jobs: MathJob[], attempt: number) {
    this.tickets = tickets
    this.jobs = jobs
    this.attempt = attempt
  }
}

const DEFAULT_WARMUP_ROUNDS = 200
const BATCHES_PER_THREAD = 2
/** A returned batch buffer is kept for reuse only up to this many numbers (8 MiB). */
const MAX_SPARE = 1 << 20

export class MathPool {
  readonly #piscina: Piscina
  readonly #sink: MathSink
  readonly #onError: ((error: unknown) => void) | null
  readonly #threshold: number
  readonly #maxInFlight: number
  readonly #threads: number
  #state: PoolState = 'open'
  #tickets: number[] = []
  #jobs: MathJob[] = []
  /** Jobs of this turn already answered by `tryInline`. */
  #turnInline = 0
  #flushScheduled = false
  #inFlight = 0
  /** A buffer a batch brought back, reused by the next batch that fits. */
  #spare: Float64Array | null = null
  #drained: (() => void) | null = null
  #closing: Promise<void> | null = null
  #batches = 0
  #inlineBatches = 0
  #submitted = 0
  #answered = 0
  #crashes = 0
  #created = 0

  private constructor(opts: MathPoolOptions, threads: number, filename: string) {
    this.#sink = opts.sink
    this.#onError = opts.onError ?? null
    this.#threshold = opts.inlineThreshold
    this.#threads = threads
    this.#maxInFlight = opts.maxQueue ?? threads * BATCHES_PER_THREAD
    this.#piscina = new Piscina({
      filename,
      name: 'runBatch',
      minThreads: threads,
      maxThreads: threads,
      workerData: opts.workerData,
      // Our own stats replace Piscina's per-task run/wait histograms; skipping them saves a
      // couple of performance.now() calls and histogram updates per batch.
      recordTiming: false,
    })
    this.#piscina.on('workerCreate', this.#onWorkerCreate)
    // A thread that dies while idle is reported here rather than through a task; Piscina replaces
    // it. Without a listener the EventEmitter would throw.
    this.#piscina.on('error', this.#onIdleThreadError)
  }

  /** Spawns the threads and pre-warms every one of them (loaded module, optimised kernels). */
  static async start(opts: MathPoolOptions): Promise<MathPool> {
    const threads = checkOptions(opts)
    const filename = opts.workerFile ?? distFile('workers/math.worker.js')
    const pool = new MathPool(opts, threads, filename)
    try {
      await pool.#warm(opts.warmupRounds ?? DEFAULT_WARMUP_ROUNDS)
    } catch (error) {
      await pool.#piscina.destroy()
      throw new TsfmError('TSFM_INTERNAL', `math threads failed to start: ${error instanceof Error ? error.message : quote(error)}`)
    }
    return pool
  }

  /** Collected into the current turn's batch; answered through the sink. */
  submitBaseline(ticket: number, job: BaselineJob): void {
    this.#submit(ticket, job)
  }

  /** Collected into the current turn's batch; answered through the sink. */
  submitPostprocess(ticket: number, job: PostprocessJob): void {
    this.#submit(ticket, job)
  }

  /**
   * The job's result computed now, on this thread, while the current turn is still below the
   * inline threshold — it would run inline at the end of the turn anyway, and answering now
   * spares the wait behind the rest of the turn (measured through the daemon at 16 requests in
   * flight: baseline answers p99 5 ms → 0.1 ms, same throughput). Returns null once the turn
   * holds enough jobs to be worth a thread: then submit the job and its result comes through the
   * sink with the rest of the batch.
   */
  tryInline(job: MathJob): MathResult | null {
    if (this.#state !== 'open' || this.#turnInline + this.#jobs.length + 1 >= this.#threshold) return null
    this.#turnInline++
    this.#submitted++
    this.#answered++
    this.#schedule()
    return computeJob(job)
  }

  /** Synchronous, on the calling thread, with the same kernels — for answering "at once". */
  computeInline(job: MathJob): MathResult {
    return computeJob(job)
  }

  stats(): MathPoolStats {
    return {
      batches: this.#batches,
      inlineBatches: this.#inlineBatches,
      jobs: this.#submitted,
      crashes: this.#crashes,
      restarts: Math.max(0, this.#created - this.#threads),
      queued: this.#submitted - this.#answered,
    }
  }

  get threads(): number {
    return this.#threads
  }

  /** Drains (pending jobs inline, batches on the threads awaited), then destroys the threads. */
  close(): Promise<void> {
    if (this.#closing === null) {
      this.#state = 'closing'
      this.#closing = this.#close()
    }
    return this.#closing
  }

  async #close(): Promise<void> {
    // Deliver after close() has returned, like every other answer (never from inside a call).
    await Promise.resolve()
    this.#flush()
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
    await this.#piscina.destroy()
    this.#state = 'closed'
  }

  #submit(ticket: number, job: MathJob): void {
    this.#tickets.push(ticket)
    this.#jobs.push(job)
    this.#submitted++
    this.#schedule()
  }

  #schedule(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(this.#flush)
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false
    this.#turnInline = 0
    const n = this.#jobs.length
    if (n === 0) return
    if (this.#state !== 'open' || n < this.#threshold) {
      const tickets = this.#tickets
      const jobs = this.#jobs
      this.#tickets = []
      this.#jobs = []
      this.#runInline(tickets, jobs)
      return
    }
    // Saturated: keep collecting; #settled() flushes when a batch comes back.
    if (this.#inFlight >= this.#maxInFlight) return
    const batch = new PoolBatch(this.#tickets, this.#jobs, 1)
    this.#tickets = []
    this.#jobs = []
    this.#dispatch(batch)
  }

  #runInline(tickets: readonly number[], jobs: readonly MathJob[]): void {
    this.#inlineBatches++
    for (let i = 0; i < jobs.length; i++) this.#deliver(tickets[i] as number, computeJob(jobs[i] as MathJob))
  }

  #dispatch(batch: PoolBatch): void {
    const n = batch.jobs.length
    const len = packedLength(batch.jobs, n)
    let buf = this.#spare
    if (buf !== null && buf.length >= len) this.#spare = null
    else buf = new Float64Array(len)
    packBatch(batch.jobs, n, buf)
    this.#inFlight++
    this.#batches++
    let task: Promise<unknown>
    try {
      task = this.#piscina.run(buf, { name: 'runBatch', transferList: [buf.buffer as ArrayBuffer] })
    } catch (error) {
      task = Promise.reject(error)
    }
    // One pair of callbacks per batch (per turn), not per job.
    task.then(
      (answer) => this.#onAnswer(batch, answer),
      () => this.#onFailure(batch),
    )
  }

  #onAnswer(batch: PoolBatch, answer: unknown): void {
    const n = batch.jobs.length
    if (!isPackedBatch(answer, n)) {
      this.#onFailure(batch)
      return
    }
    this.#inFlight--
    for (let i = 0; i < n; i++) this.#deliver(batch.tickets[i] as number, readResult(answer, i))
    if (answer.length <= MAX_SPARE && (this.#spare === null || this.#spare.length < answer.length)) this.#spare = answer
    this.#settled()
  }

  #onFailure(batch: PoolBatch): void {
    this.#inFlight--
    this.#crashes++
    if (batch.attempt === 1 && this.#state === 'open') this.#dispatch(new PoolBatch(batch.tickets, batch.jobs, 2))
    else this.#runInline(batch.tickets, batch.jobs)
    this.#settled()
  }

  #settled(): void {
    if (this.#inFlight === 0 && this.#drained !== null) {
      const resolve = this.#drained
      this.#drained = null
      resolve()
    }
    if (this.#jobs.length > 0) this.#schedule()
  }

  #deliver(ticket: number, result: MathResult): void {
    this.#answered++
    try {
      this.#sink(ticket, result)
    } catch (error) {
      if (this.#onError !== null) this.#onError(error)
      else
        queueMicrotask(() => {
          throw error
        })
    }
  }

  async #warm(rounds: number): Promise<void> {
    // Fresh threads each take the first task offered to an idle thread, so one concurrent round
    // reaches every thread; a second round covers a thread that was still booting.
    const seen = new Set<number>()
    for (let round = 0; round < 2 && seen.size < this.#threads; round++) {
      const tasks: Promise<number>[] = []
      for (let i = 0; i < this.#threads; i++) tasks.push(this.#piscina.run(rounds, { name: 'warmup' }) as Promise<number>)
      for (const id of await Promise.all(tasks)) seen.add(id)
    }
  }

  readonly #onWorkerCreate = (): void => {
    this.#created++
  }

  readonly #onIdleThreadError = (): void => {
    this.#crashes++
  }
}

function checkOptions(opts: MathPoolOptions): number {
  const { threads, inlineThreshold, maxQueue } = opts
  if (!Number.isInteger(threads) || threads < 0) {
    throw new TsfmError('TSFM_CONFIG_INVALID', `tsfm.perf.math_threads must be a non-negative integer, got ${quote(threads)}`, 'tsfm.perf.math_threads')
  }
  if (!(inlineThreshold >= 0)) {
    throw new TsfmError(
      'TSFM_CONFIG_INVALID',
      `tsfm.perf.math_inline_threshold must be a non-negative number, got ${quote(inlineThreshold)}`,
      'tsfm.perf.math_inline_threshold',
    )
  }
  if (maxQueue !== undefined && (!Number.isInteger(maxQueue) || maxQueue < 1)) {
    throw new TsfmError('TSFM_CONFIG_INVALID', `math pool maxQueue must be a positive integer, got ${quote(maxQueue)}`)
  }
  if (typeof opts.sink !== 'function') throw new TsfmError('TSFM_CONFIG_INVALID', 'math pool sink must be a function')
  return threads === 0 ? Math.max(1, availableParallelism() - 1) : threads
}
