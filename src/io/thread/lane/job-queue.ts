import type { PendingJob } from '../pending-job.js'

/**
 * A lane's waiting jobs in service order: every high-priority job before every other, FIFO
 * within each class. Jobs leave from anywhere — taken into a batch (which gathers the jobs of one
 * batching key from across the queue) or shed — so removal is lazy: a job that left has its
 * state changed and is skipped, and the arrays are compacted when they are mostly dead.
 */
export class JobQueue {
  #high: PendingJob[] = []
  #normal: PendingJob[] = []
  #highHead = 0
  #normalHead = 0
  #liveHigh = 0
  #liveNormal = 0

  get size(): number {
    return this.#liveHigh + this.#liveNormal
  }

  get sizeHigh(): number {
    return this.#liveHigh
  }

  push(p: PendingJob): void {
    if (p.job.high) {
      this.#high.push(p)
      this.#liveHigh++
    } else {
      this.#normal.push(p)
      this.#liveNormal++
    }
  }

  /** The first live job in service order, or undefined. */
  peek(): PendingJob | undefined {
    this.#skipDead()
    if (this.#highHead < this.#high.length) return this.#high[this.#highHead]
    if (this.#normalHead < this.#normal.length) return this.#normal[this.#normalHead]
    return undefined
  }

  /** Calls `fn` for each live job in service order with its position (0 = next to be served). */
  forEach(fn: (p: PendingJob, position: number) => void): void {
    let pos = 0
    for (let i = this.#highHead; i < this.#high.length; i++) {
      const p = this.#high[i] as PendingJob
      if (p.state === 'queued') fn(p, pos++)
    }
    for (let i = this.#normalHead; i < this.#normal.length; i++) {
      const p = this.#normal[i] as PendingJob
      if (p.state === 'queued') fn(p, pos++)
    }
  }

  /**
   * Up to `max` live jobs with batching key `key`, in service order, taken out of the queue
   * (their state becomes `sent`).
   */
  take(key: string, max: number): PendingJob[] {
    const out: PendingJob[] = []
    this.#takeFrom(this.#high, this.#highHead, key, max, out)
    const fromHigh = out.length
    this.#liveHigh -= fromHigh
    if (out.length < max) this.#takeFrom(this.#normal, this.#normalHead, key, max, out)
    this.#liveNormal -= out.length - fromHigh
    this.#skipDead()
    return out
  }

  /** `p` left the queue another way (shed): its state is already changed by the caller. */
  removed(p: PendingJob): void {
    if (p.job.high) this.#liveHigh--
    else this.#liveNormal--
    this.#skipDead()
  }

  /** Every live job, removed from the queue (closing). */
  takeAll(): PendingJob[] {
    const out: PendingJob[] = []
    this.forEach((p) => out.push(p))
    this.#high = []
    this.#normal = []
    this.#highHead = this.#normalHead = this.#liveHigh = this.#liveNormal = 0
    return out
  }

  #takeFrom(arr: PendingJob[], head: number, key: string, max: number, out: PendingJob[]): void {
    for (let i = head; i < arr.length && out.length < max; i++) {
      const p = arr[i] as PendingJob
      if (p.state !== 'queued' || p.key !== key) continue
      p.state = 'sent'
      out.push(p)
    }
  }

  #skipDead(): void {
    while (this.#highHead < this.#high.length && (this.#high[this.#highHead] as PendingJob).state !== 'queued') this.#highHead++
    while (this.#normalHead < this.#normal.length && (this.#normal[this.#normalHead] as PendingJob).state !== 'queued') this.#normalHead++
    if (this.#highHead > 64 && this.#highHead * 2 > this.#high.length) {
      this.#high = compact(this.#high, this.#highHead)
      this.#highHead = 0
    }
    if (this.#normalHead > 64 && this.#normalHead * 2 > this.#normal.length) {
      this.#normal = compact(this.#normal, this.#normalHead)
      this.#normalHead = 0
    }
    // Dead entries behind the head (taken by key from the middle) are dropped when they pile up.
    if (this.#normal.length - this.#normalHead > 256 && this.#liveNormal * 2 < this.#normal.length - this.#normalHead) {
      this.#normal = compact(this.#normal, this.#normalHead)
      this.#normalHead = 0
    }
    if (this.#high.length - this.#highHead > 256 && this.#liveHigh * 2 < this.#high.length - this.#highHead) {
      this.#high = compact(this.#high, this.#highHead)
      this.#highHead = 0
    }
  }
}

function compact(arr: PendingJob[], head: number): PendingJob[] {
  const out: PendingJob[] = []
  for (let i = head; i < arr.length; i++) if ((arr[i] as PendingJob).state === 'queued') out.push(arr[i] as PendingJob)
  return out
}
