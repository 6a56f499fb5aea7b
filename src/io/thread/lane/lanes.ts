import type { Lane } from './lane.js'

/**
 * The lanes of one upstream, one per model name, created on first use. Model names come from
 * requests, so the table is bounded: past `maxLanes`, the least recently used idle lane is
 * dropped (its cost model is relearned if the model comes back), and when every lane is busy the
 * extra models share one overflow lane (OVERFLOW) — correct, only batched less well.
 */
export const OVERFLOW = '(other models)'

export class Lanes {
  readonly #lanes = new Map<string, Lane>()
  readonly #make: (name: string) => Lane
  readonly #maxLanes: number

  constructor(maxLanes: number, make: (name: string) => Lane) {
    this.#maxLanes = Math.max(1, maxLanes)
    this.#make = make
  }

  get size(): number {
    return this.#lanes.size
  }

  /** The lane of `model` (most recently used now). */
  of(model: string): Lane {
    let lane = this.#lanes.get(model)
    if (lane !== undefined) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.#lanes.delete(model)
      this.#lanes.set(model, lane)
      return lane
    }
    if (this.#lanes.size >= this.#maxLanes && !this.#evictIdle()) return this.#overflow()
    lane = this.#make(model)
    this.#lanes.set(model, lane)
    return lane
  }

  values(): IterableIterator<Lane> {
    return this.#lanes.values()
  }

  #evictIdle(): boolean {
    for (const [name, lane] of this.#lanes) {
      if (name !== OVERFLOW && lane.idle) {
        this.#lanes.delete(name)
        return true
      }
    }
    return false
  }

  #overflow(): Lane {
    let lane = this.#lanes.get(OVERFLOW)
    if (lane === undefined) {
      lane = this.#make(OVERFLOW)
      this.#lanes.set(OVERFLOW, lane)
    }
    return lane
  }
}
