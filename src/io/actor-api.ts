import type { MessagePort } from 'node:worker_threads'
import type { AdapterConfig } from '../config/types.js'
import type { IoStats, LaneSettings, LaneStats, UpstreamHealth, UpstreamJob, UpstreamOutcome, UpstreamRequestRecord } from './types.js'

/**
 * The comlink API of the I/O worker thread (io-actor.ts), as the host (io-host.ts) sees it: the
 * control plane (init, health, stats, close).
 *
 * The data plane does not go through comlink: a comlink call is a request message, a reply
 * message and a promise on each side, and the reply wakes the main thread for nothing. Jobs go
 * to the thread and outcomes come back as plain messages on a dedicated MessagePort given to
 * `init`, one message per event-loop turn each way, with the Float64Array buffers transferred;
 * the host owns that port so it can close it when a thread dies. Measured by
 * perf/io/multiplex.bench.ts, host → thread → host for a job answered without HTTP: 60–85 µs
 * at one job per turn against 102–163 µs with jobs sent as a comlink call, 14–15 µs a job at
 * 32 per turn against 15–20 µs.
 */
export interface IoActorConfig {
  readonly adapter: AdapterConfig
  readonly lanes: LaneSettings
}

/** Thread → host on the data port. */
export type IoPortMessage =
  | {
      readonly t: 'outcomes'
      readonly outcomes: UpstreamOutcome[]
      readonly records: UpstreamRequestRecord[]
      /** The lanes' state, at most every LANE_REPORT_MS (null in between). */
      readonly lanes: readonly LaneStats[] | null
    }
  | { readonly t: 'health'; readonly health: UpstreamHealth }

/** Host → thread on the data port: the jobs of one event-loop turn … */
export type IoJobsMessage = UpstreamJob[]

/**
 * … or tickets whose requester no longer waits: a job still queued in its lane is taken out and
 * answered `withdrawn`; one already sent goes on (its answer fills the cache).
 */
export interface IoCancelMessage {
  readonly t: 'cancel'
  readonly tickets: number[]
}

export type IoHostMessage = IoJobsMessage | IoCancelMessage

export interface IoActorApi {
  /** `port` carries the data plane: jobs in (`IoJobsMessage`), outcomes out (`IoPortMessage`). */
  init(cfg: IoActorConfig, port: MessagePort): void
  health(probe: boolean): Promise<UpstreamHealth>
  stats(): IoStats
  /** `GET /api/tags`: installed model names, or null (unreachable, timed out, unreadable). */
  tags(): Promise<string[] | null>
  /**
   * Drains: takes the jobs already posted on the data port, sends every queued job, waits for
   * the requests in flight (each bounded by its jobs' deadlines), posts the last outcomes, then
   * closes the connections and the port.
   */
  close(): Promise<void>
  /** Test only: an uncaught exception inside the I/O thread, as a bug would raise. */
  crashForTest(): void
}
