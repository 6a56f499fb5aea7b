import type { ForecastResponse } from '../../response.js'
import type { L2Entry } from './codec.js'

/**
 * What an L2 lookup or wait ends with, as the supervisor receives it (a message, like an
 * upstream outcome; supervisor.ts). Every Redis call is asynchronous and the supervisor never
 * waits on one: it bounds each by its own timer and goes on without L2 when the answer is late.
 */
export type L2Result =
  /** An answer stored by some daemon (possibly past its TTL: the supervisor judges its age). */
  | { readonly kind: 'hit'; readonly entry: L2Entry }
  /**
   * Nothing usable stored. `leader`: this daemon now holds the key's lease and the cluster
   * waits for its answer. `invalid`: something unreadable was under the key (to be overwritten).
   */
  | { readonly kind: 'miss'; readonly key: string; readonly leader: boolean; readonly invalid: boolean }
  /** Another daemon holds the lease: wait for its publication (`wait`). */
  | { readonly kind: 'leased' }
  /** The awaited publication: the answer, or null when its daemon gave up on the key. */
  | { readonly kind: 'published'; readonly entry: L2Entry | null }
  /** Redis refused or failed the command. */
  | { readonly kind: 'error' }

export type L2Sink = (ticket: number, result: L2Result) => void

/** The supervisor's view of the shared cache (src/cache/l2/redis-l2.ts; tests may fake it). */
export interface L2Port {
  /** Redis answered recently and in time: worth asking. When false the request goes on without L2. */
  readonly up: boolean
  /** Look `key` up (or take its lease); the result comes to the sink with `ticket`. */
  lookup(ticket: number, key: string, marketId: string): void
  /** Wait for the publication of `key` by the daemon holding its lease. */
  wait(ticket: number, key: string, marketId: string): void
  /** Stop waiting for `key` (the supervisor's wait bound passed). */
  unwait(ticket: number, key: string): void
  /** Store an answer computed at `storedAt` and tell the waiting daemons. */
  store(key: string, value: ForecastResponse, storedAt: number): void
  /** This daemon holds the lease of `key` but will store nothing: the waiters compute themselves. */
  abandon(key: string): void
  /** A lookup was not answered within `command_timeout_ms`. */
  timedOut(): void
  close(): Promise<void>
}
