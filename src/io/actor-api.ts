import type { MessagePort } from 'node:worker_threads'
import type { AdapterConfig } from '../config/types.js'
import type { IoStats, UpstreamHealth, UpstreamJob, UpstreamOutcome, UpstreamRequestRecord } from './types.js'

/**
 * The comlink API of the I/O worker thread (io-actor.ts), as the host (io-host.ts) sees it.
 *
 * Results do not come back as comlink return values: a comlink call costs a request and a reply
 * message and a promise on each side. Outcomes flow one way over a dedicated MessagePort given to
 * `init`, one message per event-loop turn with the Float64Array buffers transferred, and the host
 * owns that port so it can close it when a thread dies.
 */
export interface IoActorConfig {
  readonly adapter: AdapterConfig
}

export type IoPortMessage =
  | { readonly t: 'outcomes'; readonly outcomes: UpstreamOutcome[]; readonly records: UpstreamRequestRecord[] }
  | { readonly t: 'health'; readonly health: UpstreamHealth }

export interface IoActorApi {
  init(cfg: IoActorConfig, port: MessagePort): void
  /** Fire and forget: outcomes arrive on the port. */
  forecastBatch(jobs: UpstreamJob[]): void
  health(probe: boolean): Promise<UpstreamHealth>
  stats(): IoStats
  close(): Promise<void>
  /** Test only: an uncaught exception inside the I/O thread, as a bug would raise. */
  crashForTest(): void
}
