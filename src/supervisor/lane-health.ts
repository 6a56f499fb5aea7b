import type { Clock } from '../clock/clock.js'
import type { CircuitBreakerConfig, DegradationConfig } from '../config/types.js'
import { CircuitBreaker, type BreakerSnapshot, type BreakerStateKind, type BreakerTransition } from './breaker.js'
import { ModeMachine, type ModeKind, type ModeSnapshot, type ModeTransition } from './mode.js'

/** A breaker transition and the lane (model) whose breaker it is. */
export interface LaneBreakerTransition extends BreakerTransition {
  readonly lane: string
}

/** A mode transition and the lane (model) whose mode it is. */
export interface LaneModeTransition extends ModeTransition {
  readonly lane: string
}

/** Where models beyond `max_lanes` share one breaker and mode (and one lane in the I/O thread). */
export const OVERFLOW_LANE = '(other models)'

/**
 * What the supervisor knows of one upstream lane (a model on the upstream): its circuit breaker
 * and its degradation mode. Both per lane (SPEC §5: one model's trouble does not refuse
 * another's) — measured: with one global mode machine, a second model whose runner hung put the
 * whole runner in baseline-only, and the healthy model's clients got 53 578 baseline answers in
 * 20 s (perf/lanes/two-models.ts).
 */
export class LaneHealth {
  /** Calls holding a permit of this lane's breaker (a lane with calls out is never forgotten). */
  outstanding = 0

  constructor(
    readonly name: string,
    readonly breaker: CircuitBreaker,
    readonly mode: ModeMachine,
  ) {}

  /** Nothing to remember: closed, normal, no failure in either window, no call out. */
  get forgettable(): boolean {
    if (this.outstanding > 0 || this.name === OVERFLOW_LANE) return false
    const b = this.breaker.snapshot()
    if (b.state !== 'closed' || b.window_failures > 0) return false
    const m = this.mode.snapshot()
    return m.mode === 'normal' && m.failures === 0
  }
}

export interface LaneHealthOptions {
  readonly breaker: CircuitBreakerConfig
  readonly degradation: DegradationConfig
  readonly clock: Clock
  readonly random: () => number
  readonly probeTimeoutMs: number
  readonly maxLanes: number
  readonly onBreakerTransition: (e: LaneBreakerTransition) => void
  readonly onModeTransition: (e: LaneModeTransition) => void
  /** A lane was created (closed, normal): its gauges start at once. */
  readonly onNew?: (lane: string) => void
}

/**
 * The lanes' health, one entry per model name, created on first use. Model names come from
 * requests, so the table is bounded: past `maxLanes` the least recently used lane with nothing
 * to remember is forgotten, and when none can be, further models share the overflow lane. A
 * lane with an open breaker or a degraded mode is never forgotten, so a failing model cannot
 * escape its state by crowding the table.
 */
export class LaneHealthTable {
  readonly #lanes = new Map<string, LaneHealth>()
  readonly #o: LaneHealthOptions
  readonly #maxLanes: number

  constructor(opts: LaneHealthOptions) {
    this.#o = opts
    this.#maxLanes = Math.max(1, opts.maxLanes)
  }

  /** The lane name a model is served under (itself, or the overflow lane). */
  laneOf(model: string): string {
    if (this.#lanes.has(model)) return model
    if (this.#lanes.size < this.#maxLanes || this.#forgettable() !== null) return model
    return OVERFLOW_LANE
  }

  /** The lane of `model`, created on first use (most recently used now). */
  of(model: string): LaneHealth {
    const found = this.#lanes.get(model)
    if (found !== undefined) {
      this.#lanes.delete(model)
      this.#lanes.set(model, found)
      return found
    }
    if (this.#lanes.size >= this.#maxLanes) {
      const old = this.#forgettable()
      if (old === null) return this.#get(OVERFLOW_LANE)
      this.#lanes.delete(old)
    }
    return this.#get(model)
  }

  /** The lane `model`'s requests are served under now, without creating one. */
  peek(model: string): LaneHealth | undefined {
    return this.#lanes.get(model) ?? this.#lanes.get(OVERFLOW_LANE)
  }

  /** The breaker state `model`'s requests see now (closed for a model with no lane yet). */
  breakerStateOf(model: string): BreakerStateKind {
    return this.peek(model)?.breaker.state ?? 'closed'
  }

  /** The mode `model`'s requests see now (normal for a model with no lane yet). */
  modeOf(model: string): ModeKind {
    return this.peek(model)?.mode.mode.kind ?? 'normal'
  }

  snapshots(): Record<string, { breaker: BreakerSnapshot; mode: ModeSnapshot }> {
    const out: Record<string, { breaker: BreakerSnapshot; mode: ModeSnapshot }> = {}
    for (const [name, lane] of this.#lanes) out[name] = { breaker: lane.breaker.snapshot(), mode: lane.mode.snapshot() }
    return out
  }

  values(): IterableIterator<LaneHealth> {
    return this.#lanes.values()
  }

  #get(name: string): LaneHealth {
    let lane = this.#lanes.get(name)
    if (lane === undefined) {
      const o = this.#o
      const breaker = new CircuitBreaker(o.breaker, o.clock, o.random, (e) => o.onBreakerTransition({ ...e, lane: name }), o.probeTimeoutMs)
      const mode = new ModeMachine(o.degradation, o.clock, (e) => o.onModeTransition({ ...e, lane: name }))
      lane = new LaneHealth(name, breaker, mode)
      this.#lanes.set(name, lane)
      o.onNew?.(name)
    }
    return lane
  }

  #forgettable(): string | null {
    for (const [name, lane] of this.#lanes) if (lane.forgettable) return name
    return null
  }
}
