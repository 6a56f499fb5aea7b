import type { MathResult } from '../../../workers/protocol.js'

/** A MathSink that records every call and lets a test await a number of answers. */
export class Collector {
  readonly tickets: number[] = []
  readonly results = new Map<number, MathResult>()
  #want = 0
  #resolve: (() => void) | null = null

  readonly sink = (ticket: number, result: MathResult): void => {
    this.tickets.push(ticket)
    this.results.set(ticket, result)
    if (this.#resolve !== null && this.tickets.length >= this.#want) {
      const resolve = this.#resolve
      this.#resolve = null
      resolve()
    }
  }

  /** Resolves once `n` answers have arrived in total. */
  until(n: number): Promise<void> {
    if (this.tickets.length >= n) return Promise.resolve()
    this.#want = n
    return new Promise((resolve) => (this.#resolve = resolve))
  }

  /** Tickets answered more than once (must stay empty). */
  duplicates(): number[] {
    const seen = new Set<number>()
    return this.tickets.filter((t) => (seen.has(t) ? true : (seen.add(t), false)))
  }
}

/** One macrotask later: after the pool's setImmediate flush of the current turn. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
