import type { Clock } from '../clock/clock.js'
import { ModelGate, type GateJob } from './model-gate.js'
import type { ResidencyParams } from './residency.js'
import type { SimModelStats } from './types.js'

/**
 * One gate per model name, created on first use: tollama runs a runner per model family, so two
 * models run in parallel while each serves its own requests one at a time (serial mode). The
 * number of gates is bounded (any model name may be accepted): after `maxLanes` names, further
 * names share one more gate, `OVERFLOW_LANE`, and their stats.
 */

export const MAX_MODEL_LANES = 64
/** The gate (and `stats().byModel` key) shared by every model name beyond `MAX_MODEL_LANES`. */
export const OVERFLOW_LANE = '(other models)'

export interface LanesSummary {
  /** The most jobs holding one model at once (1 in serial mode, whatever the number of models). */
  readonly maxConcurrent: number
  readonly coldStarts: number
  readonly byModel: Record<string, SimModelStats>
}

export class ModelLanes {
  readonly #serial: boolean
  readonly #clock: Clock
  readonly #params: ResidencyParams
  readonly #maxLanes: number
  readonly #lanes = new Map<string, ModelGate>()

  constructor(serial: boolean, clock: Clock, params: ResidencyParams, maxLanes = MAX_MODEL_LANES) {
    this.#serial = serial
    this.#clock = clock
    this.#params = params
    this.#maxLanes = maxLanes
  }

  enter(model: string, job: GateJob): void {
    this.#lane(model).enter(job)
  }

  summary(): LanesSummary {
    let maxConcurrent = 0
    let coldStarts = 0
    const entries: [string, SimModelStats][] = []
    for (const [name, gate] of this.#lanes) {
      const s = gate.stats()
      maxConcurrent = Math.max(maxConcurrent, s.maxConcurrent)
      coldStarts += s.coldStarts
      entries.push([name, s])
    }
    // fromEntries defines own properties: a model named "__proto__" stays a plain key.
    return { maxConcurrent, coldStarts, byModel: Object.fromEntries(entries) }
  }

  /** Zeroes every gate's counters; the gates themselves (queues, loaded models) stay. */
  resetStats(): void {
    for (const gate of this.#lanes.values()) gate.resetStats()
  }

  close(): void {
    for (const gate of this.#lanes.values()) gate.close()
  }

  #lane(model: string): ModelGate {
    const lane = this.#lanes.get(model)
    if (lane !== undefined) return lane
    const name = this.#lanes.size < this.#maxLanes ? model : OVERFLOW_LANE
    const gate = this.#lanes.get(name) ?? new ModelGate(this.#serial, this.#clock, this.#params)
    this.#lanes.set(name, gate)
    return gate
  }
}
