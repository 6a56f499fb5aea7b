import type { Clock, TimerHandle } from '../clock/clock.js'

/**
 * The "model" a forecast request must hold for its latency. tollama runs one request at a time
 * per model family (measured: 32 concurrent single-series requests each wait ~1.4 s), so in
 * serial mode requests queue FIFO; otherwise they all run at once. A job whose client went away
 * still holds the model to the end, as the daemon's worker thread does.
 */

export interface GateJob {
  /** How long this job holds the model (ms), fixed when it enters the gate. */
  costMs: number
  /** Set by the gate while the job holds the model. */
  timer: TimerHandle | null
  /** Called once when the job releases the model. */
  modelDone(): void
}

export class ModelGate {
  readonly #serial: boolean
  readonly #clock: Clock
  readonly #queue: GateJob[] = []
  #head = 0
  readonly #running = new Set<GateJob>()
  #maxConcurrent = 0
  #closed = false
  #draining = false

  constructor(serial: boolean, clock: Clock) {
    this.#serial = serial
    this.#clock = clock
  }

  /** The most jobs that held the model at once since the last `resetMax()`. */
  get maxConcurrent(): number {
    return this.#maxConcurrent
  }

  get running(): number {
    return this.#running.size
  }

  get queued(): number {
    return this.#queue.length - this.#head
  }

  resetMax(): void {
    this.#maxConcurrent = this.#running.size
  }

  enter(job: GateJob): void {
    if (this.#closed) return
    if (this.#serial && this.#running.size > 0) {
      this.#queue.push(job)
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
    this.#running.add(job)
    if (this.#running.size > this.#maxConcurrent) this.#maxConcurrent = this.#running.size
    if (job.costMs <= 0) {
      // No timer for a zero cost: throughput benchmarks of the client run at full speed.
      this.#finish(job)
      return
    }
    job.timer = this.#clock.setTimeout(() => this.#finish(job), job.costMs)
  }

  #finish(job: GateJob): void {
    job.timer = null
    this.#running.delete(job)
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
