import type { ModeName } from '../../src/response.js'
import { daemonState } from './control.js'

/**
 * Polls `GET /tsfm/state` while a load runs: the deepest queues seen (the blueprint's "no queue
 * runaway") and every mode change with the time it was first seen (the incident profile's
 * "baseline-only within 2 minutes"). Times are `performance.now()` of this process.
 */

export interface ModeSeen {
  readonly mode: ModeName
  readonly at: number
}

export interface StateSample {
  readonly samples: number
  readonly max_inflight: number
  readonly max_queued: number
  readonly max_open_requests: number
  readonly modes: readonly ModeSeen[]
  readonly breaker_transitions: number
}

export class StateSampler {
  readonly #url: string
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | null = null
  #busy = false
  #samples = 0
  #maxInflight = 0
  #maxQueued = 0
  #maxOpen = 0
  #breakerFirst = -1
  #breakerLast = -1
  readonly #modes: ModeSeen[] = []
  #waiters: { mode: ModeName; resolve: (at: number) => void }[] = []

  constructor(daemonUrl: string, intervalMs = 50) {
    this.#url = daemonUrl
    this.#intervalMs = intervalMs
  }

  get mode(): ModeName | null {
    return this.#modes.length === 0 ? null : (this.#modes[this.#modes.length - 1] as ModeSeen).mode
  }

  start(): this {
    this.#timer = setInterval(() => void this.poll(), this.#intervalMs)
    return this
  }

  async poll(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      const s = await daemonState(this.#url)
      const at = performance.now()
      this.#samples++
      this.#maxInflight = Math.max(this.#maxInflight, s.queue.inflight)
      this.#maxQueued = Math.max(this.#maxQueued, s.queue.queued)
      this.#maxOpen = Math.max(this.#maxOpen, s.queue.open_requests)
      if (this.#breakerFirst < 0) this.#breakerFirst = s.breaker.transitions
      this.#breakerLast = s.breaker.transitions
      const mode = s.mode.mode
      if (this.mode !== mode) {
        this.#modes.push({ mode, at })
        this.#waiters = this.#waiters.filter((w) => {
          if (w.mode !== mode) return true
          w.resolve(at)
          return false
        })
      }
    } catch {
      // A missed sample is not a result; the next poll tries again.
    } finally {
      this.#busy = false
    }
  }

  /** Resolves with the time `mode` is first seen from now on, or null after `timeoutMs`. */
  waitFor(mode: ModeName, timeoutMs: number): Promise<number | null> {
    if (this.mode === mode) return Promise.resolve((this.#modes[this.#modes.length - 1] as ModeSeen).at)
    return new Promise((resolve) => {
      const entry = {
        mode,
        resolve: (at: number) => {
          clearTimeout(timer)
          resolve(at)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== entry)
        resolve(null)
      }, timeoutMs)
      this.#waiters.push(entry)
    })
  }

  stop(): StateSample {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    return {
      samples: this.#samples,
      max_inflight: this.#maxInflight,
      max_queued: this.#maxQueued,
      max_open_requests: this.#maxOpen,
      modes: [...this.#modes],
      breaker_transitions: this.#breakerFirst < 0 ? 0 : this.#breakerLast - this.#breakerFirst,
    }
  }
}
