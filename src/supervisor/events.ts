import type { Logger } from '../log.js'
import type { LaneBreakerTransition as BreakerTransition, LaneModeTransition as ModeTransition } from './lane-health.js'

/** What `runner.on(...)` can listen to (each transition names its lane: the model). */
export interface RunnerEvents {
  readonly mode: ModeTransition
  readonly breaker: BreakerTransition
  /** A `mode` or `breaker` listener threw; the runner itself is unaffected. */
  readonly error: unknown
}

export type RunnerEventName = keyof RunnerEvents
export type Listener<E> = (event: E) => void

interface Pending {
  readonly type: 'mode' | 'breaker'
  readonly event: ModeTransition | BreakerTransition
}

/**
 * Listeners of mode and breaker transitions, called after the supervisor's turn, never inside it.
 *
 * A transition happens in the middle of handling a message (an outcome opens the breaker before
 * the flight that carried it is answered). Called there, a listener that threw left a flight in
 * `upstream` with no ticket, and every later identical request joined it and waited out its
 * deadline; a listener that submitted a request saw half-updated state. So events are queued and
 * delivered on a microtask, when the handler has finished. A listener that throws cannot reach
 * the runner: its error goes to the `error` listeners, or — with none, as xstate does for an
 * unhandled actor error (`reportUnhandledError`) and as an EventEmitter does for `error` — is
 * thrown again on a new macrotask, where the host's own uncaught-exception handling sees it.
 * Either way it is logged.
 */
export class EventRelay {
  readonly #log: Logger
  readonly #mode: Listener<ModeTransition>[] = []
  readonly #breaker: Listener<BreakerTransition>[] = []
  readonly #error: Listener<unknown>[] = []
  #queue: Pending[] = []
  #scheduled = false

  constructor(log: Logger) {
    this.#log = log
  }

  on<K extends RunnerEventName>(type: K, fn: Listener<RunnerEvents[K]>): void {
    if (type === 'mode') this.#mode.push(fn as Listener<ModeTransition>)
    else if (type === 'breaker') this.#breaker.push(fn as Listener<BreakerTransition>)
    else this.#error.push(fn as Listener<unknown>)
  }

  /** Queue a transition for delivery after the current turn. */
  emit(type: 'mode' | 'breaker', event: ModeTransition | BreakerTransition): void {
    if (type === 'mode' ? this.#mode.length === 0 : this.#breaker.length === 0) return
    this.#queue.push({ type, event })
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const queue = this.#queue
    this.#queue = []
    for (const p of queue) {
      const listeners = p.type === 'mode' ? this.#mode.slice() : this.#breaker.slice()
      for (const fn of listeners) {
        try {
          ;(fn as Listener<ModeTransition | BreakerTransition>)(p.event)
        } catch (err) {
          this.#report(err, p.type)
        }
      }
    }
  }

  #report(err: unknown, type: 'mode' | 'breaker'): void {
    this.#log.error({ err, event: type }, `a '${type}' listener threw; the runner is unaffected`)
    if (this.#error.length === 0) {
      setTimeout(() => {
        throw err
      }, 0)
      return
    }
    for (const fn of this.#error.slice()) {
      try {
        fn(err)
      } catch (e) {
        this.#log.error({ err: e }, "an 'error' listener threw")
      }
    }
  }
}
