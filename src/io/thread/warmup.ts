import type { Clock, TimerHandle } from '../../clock/clock.js'
import type { WarmupConfig } from '../../config/types.js'
import type { TollamaClient } from './client.js'
import type { UpstreamJob, UpstreamRequestRecord } from '../types.js'
import { WARMUP_REQUEST_ID } from './upstream-ids.js'
import { attemptBody, buildForecastBody } from './wire.js'

/**
 * Warm-up (SPEC §7, blueprint P2-3): a tiny real forecast per configured model at start and
 * every `interval_s`, so a model tollama has unloaded is loaded before a trading cycle needs it.
 * Its result is thrown away; its requests are recorded like any other (they are real upstream
 * load). Loading a model can take seconds, hence the long timeout of its own.
 */
export const WARMUP_TIMEOUT_MS = 60_000
const WARMUP_POINTS = 32
/** A fixed grid, so a warm-up body never depends on the wall clock. */
const WARMUP_AS_OF_MS = Date.UTC(2026, 0, 1)

export function warmupJob(model: string): UpstreamJob {
  const y = new Float64Array(WARMUP_POINTS)
  for (let i = 0; i < WARMUP_POINTS; i++) y[i] = 0.5 + 0.1 * Math.sin(i / 4)
  return {
    ticket: -1,
    deadline: Number.POSITIVE_INFINITY,
    attempt_timeout_ms: WARMUP_TIMEOUT_MS,
    max_retries: 0,
    high: false,
    request_id: WARMUP_REQUEST_ID,
    model,
    horizon: 1,
    quantiles: [0.5],
    freq: '5m',
    step_ms: 300_000,
    as_of_ms: WARMUP_AS_OF_MS,
    params: {},
    series_id: 'warmup',
    y,
    y_ts: null,
    space: 'identity',
    eps: 1e-6,
    x_past: {},
    x_future: {},
  }
}

export interface WarmupOptions {
  readonly clock: Clock
  readonly client: TollamaClient
  readonly config: WarmupConfig
  /** Used when `config.models` is empty. */
  readonly defaultModel: string
  readonly record: (r: UpstreamRequestRecord) => void
}

export class Warmup {
  readonly #o: WarmupOptions
  #timer: TimerHandle | null = null
  #stopped = false

  constructor(opts: WarmupOptions) {
    this.#o = opts
  }

  start(): void {
    if (!this.#o.config.enabled) return
    void this.runOnce().then(() => this.#schedule())
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  /** One warm-up forecast per model, one after another (tollama serves a family at a time). */
  async runOnce(): Promise<void> {
    const { clock, client, config } = this.#o
    const models = config.models.length > 0 ? config.models : [this.#o.defaultModel]
    for (const model of models) {
      if (this.#stopped) return
      const body = buildForecastBody([warmupJob(model)], ['warmup'])
      // A route 404 switches the route once, as for real traffic.
      for (let tries = 0; tries < 2; tries++) {
        const path = client.forecastPath
        const start = clock.now()
        const res = await client.forecast(path, attemptBody(body, path, WARMUP_TIMEOUT_MS), WARMUP_TIMEOUT_MS, 1 << 20, null, WARMUP_REQUEST_ID)
        const ms = clock.now() - start
        if (res.kind === 'route_missing') {
          this.#o.record({ endpoint: path, outcome: 'upstream_http_404', ms, series: 1 })
          client.switchRoute(path)
          continue
        }
        this.#o.record({ endpoint: path, outcome: res.kind === 'ok' ? 'ok' : res.kind === 'failed' ? res.failure.reason : 'upstream_unavailable', ms, series: 1 })
        break
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null
      void this.runOnce().then(() => this.#schedule())
    }, this.#o.config.interval_s * 1000, true)
  }
}
