import type { LaneStats } from '../io/types.js'
import type { BreakerSnapshot } from './breaker.js'
import type { ModeSnapshot } from './mode.js'

/** `runner.state()` and `GET /tsfm/state`. */
export interface RunnerState {
  /** The breaker of the default model's lane (`adapter.model`); every lane's is in `lanes`. */
  readonly breaker: BreakerSnapshot
  /**
   * Every upstream lane (one per model): its breaker and mode (null for a lane the I/O thread has
   * and the supervisor has not judged yet) and the I/O thread's last report of its queue (null
   * before one). `mode` above is the default model's lane's.
   */
  readonly lanes: Readonly<Record<string, { readonly breaker: BreakerSnapshot | null; readonly mode: ModeSnapshot | null; readonly io: LaneStats | null }>>
  readonly mode: ModeSnapshot
  readonly queue: {
    /** Upstream jobs outstanding (≤ worker_concurrency). */
    readonly inflight: number
    /** Flights waiting in market mailboxes. */
    readonly queued: number
    /** Market cells alive. */
    readonly markets: number
    /** Distinct computations in flight (single-flight entries). */
    readonly flights: number
    /** Requests accepted and not yet answered. */
    readonly open_requests: number
    readonly worker_concurrency: number
  }
  readonly cache: {
    readonly size: number
    readonly max_entries: number
    readonly hits: number
    readonly stale: number
    readonly misses: number
    readonly evictions: number
    /** (fresh + stale hits) / lookups since start. */
    readonly hit_rate: number
    /**
     * The shared cache (`cache.l2`): null when off. `up`: Redis answers in time and is asked
     * (false: every L1 miss goes on without it until a PING answers). Counts per result are
     * `tsfm_cache_l2_total`.
     */
    readonly l2: { readonly up: boolean; readonly key_prefix: string; readonly command_timeout_ms: number; readonly lease_ms: number } | null
  }
  readonly upstream: {
    readonly base_url: string
    readonly endpoint: string
    readonly healthy: boolean | null
    readonly version: string | null
    readonly checked_at: number | null
  }
  /** Fallback answers per reason over the last 5 minutes. */
  readonly fallbacks_last_5m: Readonly<Record<string, number>>
  /** Answers delivered since start (each counted once; see ledger.ts). */
  readonly answered: number
  /** Requests withdrawn by their caller before their answer (aborted, client disconnected). */
  readonly withdrawn: number
  /** Upstream or math results that came back after their request was answered another way. */
  readonly late_results_dropped: number
  /** The conformal state answers are adjusted with. */
  readonly conformal: ConformalStatus
}

export interface ConformalStatus {
  readonly state_path: string | null
  readonly loaded: boolean
  /** The file's `updated_at`. */
  readonly updated_at: string | null
  readonly schema_version: number | null
  readonly segments: number
  /** When it was (re)loaded, epoch ms. */
  readonly loaded_at: number | null
  /** With `conformal.online.enabled`: outcomes learned from and bands waiting for theirs. */
  readonly online?: { readonly observed: number; readonly pending: number; readonly matched: number; readonly unmatched: number; readonly early: number }
}
