import type { Clock, TimerHandle } from '../clock/clock.js'
import { UNLOADED, acquire, release, type Residency, type ResidencyParams } from './residency.js'
import type { SimModelStats } from './types.js'

/**
 * One model's runner: what a forecast request must hold for its cost. tollama runs one runner per
 * model family, and a runner serves one request at a time (measured: 32 concurrent single-series
 * requests each wait ~1.4 s), so in serial mode a model's requests queue FIFO; otherwise they all
 * run at once. Each model has its own gate (model-lanes.ts), so different models run in parallel.
 * A request that finds the model unloaded holds it for the load first (residency.ts). A job whose
 * client went away still holds the model to the end, as the daemon's worker thread does.
 */

export interface GateJob {
  /** How long this job holds the loaded model (ms), fixed when it enters the gate. */
  costMs: number
  /** Series in the request, for the per-model stats. */
  readonly series: number
  /** Set by the gate when the job takes the model: how long it waits for a load first (ms). */
  loadMs: number
  /** Set by the gate while the job holds the model. */
  timer: TimerHandle | null
  /** Called once when the job releases the model. */
  modelDone(): void
}

/** A model that loads for free and never unloads: the gate of a caller without cold starts. */
const NO_COLD_START: ResidencyParams = Object.freeze({ coldStartMs: 0, keepAliveMs: Number.POSITIVE_INFINITY })

export class ModelGate {
  readonly #serial: boolean
  readonly #clock: Clock
  /** Read at each acquisition: the simulator's live cost model (`setLatency` changes it). */
  readonly #params: ResidencyParams
  readonly #queue: GateJob[] = []
  #head = 0
  readonly #running = new Set<GateJob>()
  #residency: Residency = UNLOADED
  #closed = false
  #draining = false
  // Stats since the last resetStats().
  #requests = 0
  #series = 0
  #coldStarts = 0
  #maxConcurrent = 0
  #maxQueued = 0
  /** Time the model was held by at least one job, intervals finished so far. */
  #busyMs = 0
  #busySince = 0

  constructor(serial: boolean, clock: Clock, params: ResidencyParams = NO_COLD_START) {
    this.#serial = serial
    this.#clock = clock
    this.#params = params
  }

  /** The most jobs that held the model at once since the last `resetStats()`. */
  get maxConcurrent(): number {
    return this.#maxConcurrent
  }

  get running(): number {
    return this.#running.size
  }

  get queued(): number {
    return this.#queue.length - this.#head
  }

  stats(): SimModelStats {
    const busy = this.#busyMs + (this.#running.size > 0 ? this.#clock.now() - this.#busySince : 0)
    return {
      requests: this.#requests,
      series: this.#series,
      maxConcurrent: this.#maxConcurrent,
      maxQueued: this.#maxQueued,
      busyMs: Math.round(busy * 1000) / 1000,
      coldStarts: this.#coldStarts,
    }
  }

  /** Zeroes the counters; the high-water marks restart from what is running and queued now. */
  resetStats(): void {
    this.#requests = 0
    this.#series = 0
    this.#coldStarts = 0
    this.#maxConcurrent = this.#running.size
    this.#maxQueued = this.queued
    this.#busyMs = 0
    this.#busySince = this.#clock.now()
  }

  enter(job: GateJob): void {
    if (this.#closed) return
    this.#requests++
    this.#series += job.series
    // A job entered while the queue drains (running empty for a moment) still goes behind it.
    if (this.#serial && (this.#running.size > 0 || this.queued > 0)) {
      this.#queue.push(job)
      if (this.queued > this.#maxQueued) this.#maxQueued = this.queued
      return
    }
    this.#start(job)
  }

  /** Cancels every timer and forgets queued jobs; none of them completes. */
  close(): void {
    this.#closed = true
    for (const job of this.#running) {
      if (job.timer !== null) this.#clock.clearTimeout(job.timer)
      job.timer = null
    }
    this.#running.clear()
    this.#queue.length = 0
    this.#head = 0
  }

  #start(job: GateJob): void {
    const now = this.#clock.now()
    const taken = acquire(this.#residency, now, this.#params)
    this.#residency = taken.next
    if (taken.cold) this.#coldStarts++
    job.loadMs = taken.loadMs
    if (this.#running.size === 0) this.#busySince = now
    this.#running.add(job)
    if (this.#running.size > this.#maxConcurrent) this.#maxConcurrent = this.#running.size
    const holdMs = taken.loadMs + job.costMs
    if (holdMs <= 0) {
      // No timer for a zero cost: throughput benchmarks of the client run at full speed. The
      // same instant ends it, so it adds nothing to the busy time.
      this.#finish(job, now)
      return
    }
    job.timer = this.#clock.setTimeout(() => this.#finish(job, this.#clock.now()), holdMs)
  }

  #finish(job: GateJob, now: number): void {
    job.timer = null
    this.#running.delete(job)
    this.#residency = release(this.#residency, now, this.#running.size)
    if (this.#running.size === 0) this.#busyMs += now - this.#busySince
    job.modelDone()
    if (this.#serial && !this.#closed && !this.#draining) this.#drain()
  }

  #drain(): void {
    // A zero-cost job finishes inside #start: drain in a loop, never by recursion.
    this.#draining = true
    try {
      while (!this.#closed && this.#running.size === 0 && this.#head < this.#queue.length) {
        const next = this.#queue[this.#head] as GateJob
        this.#queue[this.#head++] = undefined as unknown as GateJob
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#head)
          this.#head = 0
        }
        this.#start(next)
      }
    } finally {
      this.#draining = false
    }
  }
}
