import type { Clock } from '../clock/clock.js'
import type { CircuitBreakerConfig } from '../config/types.js'
import { CircuitBreaker, type BreakerSnapshot, type BreakerStateKind, type BreakerTransition } from './breaker.js'

/** A breaker transition and the lane (model) whose breaker it is. */
export interface LaneBreakerTransition extends BreakerTransition {
  readonly lane: string
}

/** Where models beyond `max_lanes` share one breaker (and one lane in the I/O thread). */
export const OVERFLOW_LANE = '(other models)'

/**
 * One circuit breaker per upstream lane (SPEC §5: one model's trouble does not refuse another's).
 * A lane is a model on the upstream; model names come from requests, so the table is bounded:
 * past `maxLanes` the least recently used *closed* breaker with no call outstanding is forgotten
 * (a closed breaker with an empty window carries nothing worth keeping), and when none can be,
 * further models share the overflow breaker. An open breaker is never forgotten, so a failing
 * model cannot escape its breaker by crowding the table.
 */
export class LaneBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>()
  readonly #config: CircuitBreakerConfig
  readonly #clock: Clock
  readonly #random: () => number
  readonly #probeTimeoutMs: number
  readonly #maxLanes: number
  readonly #onTransition: (e: LaneBreakerTransition) => void
  readonly #onNew: (lane: string) => void
  /** Calls outstanding per breaker (a breaker with calls in flight is never forgotten). */
  readonly #outstanding = new Map<CircuitBreaker, number>()

  constructor(
    config: CircuitBreakerConfig,
    clock: Clock,
    random: () => number,
    probeTimeoutMs: number,
    maxLanes: number,
    onTransition: (e: LaneBreakerTransition) => void,
    /** A lane's breaker was created (closed): its state gauge starts at once. */
    onNew: (lane: string) => void = () => undefined,
  ) {
    this.#onNew = onNew
    this.#config = config
    this.#clock = clock
    this.#random = random
    this.#probeTimeoutMs = probeTimeoutMs
    this.#maxLanes = Math.max(1, maxLanes)
    this.#onTransition = onTransition
  }

  /** The lane name a model is served under (itself, or the overflow lane). */
  laneOf(model: string): string {
    if (this.#breakers.has(model)) return model
    if (this.#breakers.size < this.#maxLanes || this.#forgettable() !== null) return model
    return OVERFLOW_LANE
  }

  /** The breaker of `model`'s lane, created on first use. */
  of(model: string): CircuitBreaker {
    const found = this.#breakers.get(model)
    if (found !== undefined) {
      this.#breakers.delete(model)
      this.#breakers.set(model, found)
      return found
    }
    if (this.#breakers.size >= this.#maxLanes) {
      const old = this.#forgettable()
      if (old === null) return this.#get(OVERFLOW_LANE)
      this.#breakers.delete(old)
    }
    return this.#get(model)
  }

  /** The breaker state `model`'s requests see now (closed for a model with no breaker yet). */
  stateOf(model: string): BreakerStateKind {
    return (this.#breakers.get(model) ?? this.#breakers.get(OVERFLOW_LANE))?.state ?? 'closed'
  }

  /** Bookkeeping of calls holding a permit (`acquired` on permit, `settled` when it ends). */
  acquired(b: CircuitBreaker): void {
    this.#outstanding.set(b, (this.#outstanding.get(b) ?? 0) + 1)
  }

  settled(b: CircuitBreaker): void {
    const n = (this.#outstanding.get(b) ?? 1) - 1
    if (n <= 0) this.#outstanding.delete(b)
    else this.#outstanding.set(b, n)
  }

  snapshots(): Record<string, BreakerSnapshot> {
    const out: Record<string, BreakerSnapshot> = {}
    for (const [name, b] of this.#breakers) out[name] = b.snapshot()
    return out
  }

  entries(): IterableIterator<[string, CircuitBreaker]> {
    return this.#breakers.entries()
  }

  #get(name: string): CircuitBreaker {
    let b = this.#breakers.get(name)
    if (b === undefined) {
      b = new CircuitBreaker(this.#config, this.#clock, this.#random, (e) => this.#onTransition({ ...e, lane: name }), this.#probeTimeoutMs)
      this.#breakers.set(name, b)
      this.#onNew(name)
    }
    return b
  }

  #forgettable(): string | null {
    for (const [name, b] of this.#breakers) {
      if (name === OVERFLOW_LANE || this.#outstanding.has(b)) continue
      const s = b.snapshot()
      if (s.state === 'closed' && s.window_failures === 0) return name
    }
    return null
  }
}
