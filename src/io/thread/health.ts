import type { Clock, TimerHandle } from '../../clock/clock.js'
import type { TollamaClient } from './client.js'
import type { UpstreamHealth, UpstreamRequestRecord } from '../types.js'

/**
 * Upstream health: `GET /api/version` on demand and every `intervalMs` (0 = on demand only).
 * Concurrent probes share one request. Every finished probe is reported through `onProbe`
 * (the mode machine's "upstream health green" signal for degraded → normal).
 */
export interface HealthOptions {
  readonly clock: Clock
  readonly client: TollamaClient
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly onProbe: (h: UpstreamHealth) => void
  readonly record: (r: UpstreamRequestRecord) => void
}

export class HealthMonitor {
  readonly #o: HealthOptions
  #current: UpstreamHealth
  #inflight: Promise<UpstreamHealth> | null = null
  #timer: TimerHandle | null = null
  #stopped = false

  constructor(opts: HealthOptions) {
    this.#o = opts
    this.#current = { ok: false, version: null, endpoint: opts.client.forecastPath, checked_at: 0, latency_ms: null }
  }

  /** The last probe's result, with the forecast route in use now. */
  get current(): UpstreamHealth {
    const endpoint = this.#o.client.forecastPath
    if (this.#current.endpoint !== endpoint) this.#current = { ...this.#current, endpoint }
    return this.#current
  }

  /** Probe now (sharing a probe already in flight). Never rejects. */
  probe(): Promise<UpstreamHealth> {
    this.#inflight ??= this.#run()
    return this.#inflight
  }

  /** First probe at once, then every interval (unref'd: the timer never holds the thread open). */
  start(): void {
    if (this.#o.intervalMs <= 0) return
    void this.probe().then(() => this.#schedule())
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null
      void this.probe().then(() => this.#schedule())
    }, this.#o.intervalMs, true)
  }

  async #run(): Promise<UpstreamHealth> {
    const { clock, client } = this.#o
    const start = clock.now()
    const v = await client.version(this.#o.timeoutMs)
    const end = clock.now()
    const ok = v.outcome === 'ok'
    this.#o.record({ endpoint: '/api/version', outcome: v.outcome, ms: end - start, series: 0 })
    this.#current = {
      ok,
      version: v.version,
      endpoint: client.forecastPath,
      checked_at: end,
      latency_ms: ok ? end - start : null,
    }
    this.#inflight = null
    if (!this.#stopped) this.#o.onProbe(this.#current)
    return this.#current
  }
}
