import type { L2Result } from '../cache/l2/port.js'
import type { UpstreamHealth, UpstreamOutcome } from '../io/types.js'
import type { ForecastRequest } from '../request/types.js'
import type { Flight, Waiter } from './flight.js'
import type { BandResult } from './ports.js'

/**
 * Everything that reaches the supervisor actor is one of these messages, handled to completion
 * one at a time in its mailbox (supervisor.ts). Results of the threads around it carry the ticket
 * they were issued with; timers carry what they were set for.
 */
export type SupervisorMsg = SubmitMsg | OutcomeMsg | BandMsg | L2Msg | L2OverdueMsg | WaiterDueMsg | QueueDueMsg | AbortMsg | HealthMsg | TickMsg

/** A validated request and the waiter that will carry its answer. */
export interface SubmitMsg {
  readonly kind: 'submit'
  readonly waiter: Waiter
  readonly req: ForecastRequest
}

/** The I/O actor's outcome for one upstream job. */
export interface OutcomeMsg {
  readonly kind: 'outcome'
  readonly outcome: UpstreamOutcome
}

/** The math pool's band for one ticket (a post-processed upstream answer or a baseline). */
export interface BandMsg {
  readonly kind: 'band'
  readonly ticket: number
  readonly band: BandResult
}

/** The shared cache's answer to a lookup or a wait (src/cache/l2/port.ts). */
export interface L2Msg {
  readonly kind: 'l2'
  readonly ticket: number
  readonly result: L2Result
}

/** A flight's L2 bound passed one event-loop turn ago (supervisor.ts #onQueueDue). */
export interface L2OverdueMsg {
  readonly kind: 'l2-overdue'
  readonly flight: Flight
}

/** A waiter's deadline passed. */
export interface WaiterDueMsg {
  readonly kind: 'waiter-due'
  readonly waiter: Waiter
}

/** A queued flight's queue timeout passed. */
export interface QueueDueMsg {
  readonly kind: 'queue-due'
  readonly flight: Flight
}

/** The caller withdrew (its AbortSignal fired, its client disconnected, its cycle stopped). */
export interface AbortMsg {
  readonly kind: 'abort'
  readonly waiter: Waiter
}

/** A finished upstream health probe. */
export interface HealthMsg {
  readonly kind: 'health'
  readonly health: UpstreamHealth
}

/** The periodic tick: judge the mode, send a probe when due. */
export interface TickMsg {
  readonly kind: 'tick'
}

export const TICK_MSG: TickMsg = Object.freeze({ kind: 'tick' })
