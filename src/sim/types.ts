/**
 * The public shapes of the tollama simulator (`tsfm-runner sim-upstream`): a test and benchmark
 * tool that speaks tollama's HTTP API with a deterministic model, a latency model and fault
 * injection. It is never a forecaster: its "forecast" echoes the last target value.
 */

/** Every fault the simulator can inject, in the order the rate draw walks them. */
export const FAULT_KINDS = [
  'hang',
  'http_500',
  'http_502',
  'http_503',
  'http_504',
  'http_429',
  'reset',
  'slow_body',
  'invalid_json',
  'html',
  'nan',
  'missing_series',
  'wrong_ids',
  'route_404',
  'model_404',
] as const

export type FaultKind = (typeof FAULT_KINDS)[number]

/** A schedule entry: a fault, or `ok` for one undisturbed request. */
export type ScheduleEntry = FaultKind | 'ok'

/** Probability per forecast request (0..1) of each fault; the rates must sum to at most 1. */
export type SimFaultRates = { [kind in FaultKind]?: number }

export interface SimOptions {
  /** Only loopback: `127.0.0.1` (default) or `localhost`; anything else is refused. */
  host?: string
  /** Default 0 (ephemeral). */
  port?: number
  /** Fixed cost of one forecast request, default 42 ms (measured on tollama 0.1.0, mock model). */
  latencyFixedMs?: number
  /** Cost per series of one forecast request, default 0.9 ms (same measurement). */
  latencyPerSeriesMs?: number
  /**
   * Each model serves one forecast request at a time (a FIFO per model name), as tollama's runner
   * per model family does; different models still run in parallel.
   */
  serial?: boolean
  /**
   * A model's first forecast request, and the first after it was idle `keepAliveMs` or longer,
   * holds it this much longer (the load), reported as `timing.model_load_ms`. Default 0: off.
   */
  coldStartMs?: number
  /** How long an unused model stays loaded, default 300 000 ms (ollama's `keep_alive` of 5 min). */
  keepAliveMs?: number
  /** Installed models; null (default) accepts any name. A name not installed gets a model 404. */
  models?: readonly string[] | null
  /** Logit offset per unit z of the quantile band (deterministic model), default 0.5. */
  spread?: number
  faults?: SimFaultRates
  /** Consumed one per forecast request before the rates apply. */
  schedule?: readonly ScheduleEntry[]
  /** `Retry-After` (seconds) of an `http_429`, default 1. */
  retryAfterS?: number
  /** Seed of the PRNG that draws rate faults, default 1. */
  seed?: number
  /** `/api/forecast` answers a route 404 `{"detail":"Not Found"}` (endpoint switching tests). */
  disableApiRoute?: boolean
  /** `slow_body`: total time to trickle the body, default 2000 ms. */
  slowBodyMs?: number
  /** `hang`: never answer (null, default) or answer normally after this many ms. */
  hangMs?: number | null
}

export interface SimStats {
  /** HTTP requests received, control routes (`/_sim/*`) excluded. */
  requests: number
  /** Requests that reached a forecast route (valid or not, faulted or not). */
  forecastRequests: number
  /** Series in valid forecast requests. */
  seriesTotal: number
  /** `METHOD /path` of known routes; `unknown` for every other path. */
  byRoute: Record<string, number>
  /** Injected faults by kind. */
  faults: Record<string, number>
  /** The most forecast requests holding one model at once (1 in serial mode, whatever the number of models). */
  maxConcurrent: number
  /** Model loads paid, every model together (0 while `coldStartMs` is 0). */
  coldStarts: number
  /**
   * Per model name served since start (counters since the last reset); names beyond the 64th
   * share the entry `"(other models)"`.
   */
  byModel: Record<string, SimModelStats>
  /** Distinct TCP sockets ever accepted. */
  connections: number
  openConnections: number
  /** Series per valid forecast request, in arrival order, capped at `BATCH_SIZES_CAP` entries. */
  batchSizes: number[]
  /**
   * The request id headers of the last `REQUEST_IDS_KEPT` forecast requests, oldest first: what
   * tests check the runner sends upstream (issue 13).
   */
  requestIds: SimRequestIds[]
}

/** The id headers of one forecast request received (`SimStats.requestIds`); null when absent. */
export interface SimRequestIds {
  /** `X-Request-Id`. */
  id: string | null
  /** `X-Tsfm-Request-Ids`: the callers' ids of a multiplexed request. */
  members: string | null
}

/** One model's runner (`SimStats.byModel`). */
export interface SimModelStats {
  /** Valid forecast requests that reached this model (queued, running or done). */
  requests: number
  /** Series in those requests. */
  series: number
  /** The most requests holding this model at once (1 in serial mode). */
  maxConcurrent: number
  /** The longest queue of requests waiting for this model (serial mode; 0 otherwise). */
  maxQueued: number
  /** Time (ms) at least one request held this model, loads included. */
  busyMs: number
  /** Loads of this model paid (0 while `coldStartMs` is 0). */
  coldStarts: number
}

export interface SimFaultUpdate {
  /** Replaces the rates when given. */
  faults?: SimFaultRates
  /** Replaces the remaining schedule when given. */
  schedule?: readonly ScheduleEntry[]
}

export interface SimLatencyUpdate {
  fixedMs?: number
  perSeriesMs?: number
  /** Applies from the next load on (a load in progress keeps its length). */
  coldStartMs?: number
  /** Applies to idle models at once (the check is made when a request takes the model). */
  keepAliveMs?: number
}

export interface Simulator {
  readonly url: string
  readonly port: number
  stats(): SimStats
  resetStats(): void
  setFaults(f: SimFaultUpdate): void
  setLatency(l: SimLatencyUpdate): void
  /** Destroys open sockets (hung requests included) and cancels every pending timer. */
  close(): Promise<void>
}
