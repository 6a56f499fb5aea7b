import { Prng } from './prng.js'
import { FAULT_KINDS, type FaultKind, type ScheduleEntry, type SimFaultRates } from './types.js'

/**
 * When a fault strikes in the life of a forecast request:
 * - `arrival`: at once, before the body is validated (the daemon, a proxy or the network fails
 *   without looking at the request): route_404, reset, hang, http_429;
 * - `admission`: after validation, instead of running the model: model_404;
 * - `response`: after the model held the request for its latency (the runner failed or the answer
 *   is damaged on the way): http_5xx, slow_body, invalid_json, html, nan, missing_series, wrong_ids.
 */
export type FaultPhase = 'arrival' | 'admission' | 'response'

export function faultPhase(kind: FaultKind): FaultPhase {
  switch (kind) {
    case 'route_404':
    case 'reset':
    case 'hang':
    case 'http_429':
      return 'arrival'
    case 'model_404':
      return 'admission'
    default:
      return 'response'
  }
}

/**
 * The fault plan: schedule entries are consumed first, one per forecast request; once the
 * schedule is empty each request draws one uniform number from the seeded PRNG and walks the
 * rates in `FAULT_KINDS` order (so a seed and a rate table always give the same sequence). No
 * number is drawn while every rate is 0, nor for a request served from the schedule.
 */
export class FaultPlan {
  readonly #rates = new Float64Array(FAULT_KINDS.length)
  #anyRate = false
  #schedule: readonly ScheduleEntry[] = []
  #cursor = 0
  readonly #prng: Prng

  constructor(rates: Readonly<SimFaultRates>, schedule: readonly ScheduleEntry[], seed: number) {
    this.#prng = new Prng(seed)
    this.setRates(rates)
    this.setSchedule(schedule)
  }

  /** Replaces the rates (already validated: each in [0,1], sum <= 1). */
  setRates(rates: Readonly<SimFaultRates>): void {
    this.#anyRate = false
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      const p = rates[FAULT_KINDS[i] as FaultKind] ?? 0
      this.#rates[i] = p
      if (p > 0) this.#anyRate = true
    }
  }

  /** Replaces what is left of the schedule. */
  setSchedule(schedule: readonly ScheduleEntry[]): void {
    this.#schedule = schedule
    this.#cursor = 0
  }

  /** Schedule entries not consumed yet. */
  get scheduleRemaining(): number {
    return this.#schedule.length - this.#cursor
  }

  /** The fault of the next forecast request, or null for a normal answer. */
  next(): FaultKind | null {
    if (this.#cursor < this.#schedule.length) {
      const entry = this.#schedule[this.#cursor++] as ScheduleEntry
      return entry === 'ok' ? null : entry
    }
    if (!this.#anyRate) return null
    const u = this.#prng.next()
    let acc = 0
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      acc += this.#rates[i] as number
      if (u < acc) return FAULT_KINDS[i] as FaultKind
    }
    return null
  }
}
