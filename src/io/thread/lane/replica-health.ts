/**
 * The health of one replica × model slot of a lane (several tollama replicas, `adapter.base_url`
 * a list), as a pure transition. It decides only where the lane sends: a slot that is `down` gets
 * no batches until a probe (`GET /api/version`) answers, then one batch on `trial`, whose answer
 * brings it back `up`. The main thread's breaker and mode per model stay what they were — they
 * see the outcomes of all replicas; with every replica down the lane sends anyway, so the
 * failures reach them as with one replica.
 *
 * - A connection refused or reset (`unreachable`) takes the slot down at once: a killed replica
 *   refuses in about a millisecond, and every batch routed to it meanwhile — its predicted
 *   completion looks best, it is idle — would fail (and cost its members a retry or a fallback).
 * - Other failures (timeouts, 5xx, 429) count: `failuresToDown` in a row (the breaker's
 *   `failures_to_open`) take it down; any answer resets the count.
 * - Late results while down change nothing (requests sent before it went down); on trial, any
 *   failure takes it down again.
 */

export type ReplicaState = 'up' | 'down' | 'trial'

export interface ReplicaHealth {
  readonly state: ReplicaState
  /** Failed requests in a row (up only). */
  readonly failures: number
}

export type ReplicaEvent = 'ok' | 'failure' | 'unreachable' | 'probe_ok' | 'probe_failed'

const UP: ReplicaHealth = Object.freeze({ state: 'up', failures: 0 })
const DOWN: ReplicaHealth = Object.freeze({ state: 'down', failures: 0 })
const TRIAL: ReplicaHealth = Object.freeze({ state: 'trial', failures: 0 })

export const HEALTHY = UP

export function nextHealth(h: ReplicaHealth, e: ReplicaEvent, failuresToDown: number): ReplicaHealth {
  switch (h.state) {
    case 'up':
      if (e === 'ok') return UP
      if (e === 'unreachable') return DOWN
      if (e === 'failure') return h.failures + 1 >= failuresToDown ? DOWN : { state: 'up', failures: h.failures + 1 }
      return h
    case 'down':
      return e === 'probe_ok' ? TRIAL : h
    case 'trial':
      if (e === 'ok') return UP
      if (e === 'failure' || e === 'unreachable') return DOWN
      return h
  }
}
