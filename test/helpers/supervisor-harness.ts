import type { L2Port } from '../../src/cache/l2/port.js'
import { ManualClock } from '../../src/clock/manual-clock.js'
import { resolveConfig } from '../../src/config/index.js'
import type { ConfigInput, TsfmConfig } from '../../src/config/types.js'
import { baselineJob, postprocessJob, toBand } from '../../src/compute/math-port.js'
import type { TsfmError } from '../../src/errors.js'
import type { UpstreamJob } from '../../src/io/types.js'
import { silentLogger } from '../../src/log.js'
import { Metrics } from '../../src/metrics/metrics.js'
import type { UpstreamFailureReason } from '../../src/reasons.js'
import type { ForecastRequest } from '../../src/request/types.js'
import { defaultsFromConfig, validateForecastRequest } from '../../src/request/validate.js'
import type { ForecastResponse } from '../../src/response.js'
import type { AnswerSink, Waiter } from '../../src/supervisor/flight.js'
import type { BandResult, MathPort, UpstreamPort } from '../../src/supervisor/ports.js'
import { Supervisor } from '../../src/supervisor/supervisor.js'
import { computeJob } from '../../workers/compute.js'
import { logitSeries } from '../../workers/transforms.js'
import { probabilities } from './request-bodies.js'

/**
 * A supervisor with a manual clock, the real math (computed on this thread) and an upstream the
 * test answers by hand: every job it received is kept until the test calls `succeed`/`fail`.
 */
export class FakeUpstream implements UpstreamPort {
  readonly jobs: UpstreamJob[] = []
  maxInflight = 0
  #inflight = 0
  readonly #byMarket = new Map<string, number>()
  maxPerMarket = 0

  constructor(private readonly sup: () => Supervisor) {}

  submit(job: UpstreamJob): void {
    this.jobs.push(job)
    this.#pending.set(job.ticket, job)
    this.#inflight++
    this.maxInflight = Math.max(this.maxInflight, this.#inflight)
    const n = (this.#byMarket.get(job.series_id) ?? 0) + 1
    this.#byMarket.set(job.series_id, n)
    this.maxPerMarket = Math.max(this.maxPerMarket, n)
  }

  /**
   * Whether a cancelled job is still queued (taken back, answered `withdrawn`) or already sent
   * (it goes on, the test answers it). Default: still queued, as in a lane with a backlog.
   */
  cancelsTakeBack = true
  readonly cancelled: number[] = []

  cancel(ticket: number): void {
    this.cancelled.push(ticket)
    const job = this.#pending.get(ticket)
    if (job === undefined || !this.cancelsTakeBack) return
    this.#settle(job)
    this.sup().onUpstream({ ticket, ok: false, reason: 'withdrawn', attempts: 0, upstream_ms: 0, batch_size: 0, batch_id: 0, upstream_request_id: null })
  }

  /** Jobs not yet answered, in submission order. */
  get pending(): UpstreamJob[] {
    return [...this.#pending.values()]
  }

  readonly #pending = new Map<number, UpstreamJob>()

  #settle(job: UpstreamJob): void {
    if (!this.#pending.delete(job.ticket)) throw new Error(`job ${job.ticket} settled twice`)
    this.#inflight--
    this.#byMarket.set(job.series_id, (this.#byMarket.get(job.series_id) ?? 1) - 1)
  }

  /** Answer a job with a band echoing the last point, spread in logit space. */
  succeed(job: UpstreamJob, upstreamMs = 10, batchId = 0): void {
    this.#settle(job)
    const nQ = job.quantiles.length
    const values = new Float64Array(nQ * job.horizon)
    const last = logitSeries(job.y.subarray(job.y.length - 1), job.eps)[0] as number
    for (let q = 0; q < nQ; q++) values.fill(last + (q - (nQ - 1) / 2) * 0.3, q * job.horizon, (q + 1) * job.horizon)
    this.sup().onUpstream({ ticket: job.ticket, ok: true, values, attempts: 1, upstream_ms: upstreamMs, batch_size: 1, batch_id: batchId })
  }

  fail(job: UpstreamJob, reason: UpstreamFailureReason = 'upstream_http_503', batchId = 0): void {
    this.#settle(job)
    this.sup().onUpstream({ ticket: job.ticket, ok: false, reason, attempts: 1, upstream_ms: 5, batch_size: 1, batch_id: batchId, upstream_request_id: `up-${job.ticket}` })
  }

  /** Fail every pending job as the members of one multiplexed request. */
  failAsOneRequest(reason: UpstreamFailureReason = 'upstream_http_503'): void {
    const id = ++this.#batches
    for (const j of this.pending) this.fail(j, reason, id)
  }

  #batches = 0

  succeedAll(): void {
    for (const j of this.pending) this.succeed(j)
  }

  failAll(reason?: UpstreamFailureReason): void {
    for (const j of this.pending) this.fail(j, reason)
  }
}

/** The real kernels, delivered as messages right away (re-entrant offers queue in the mailbox). */
export class InlineMath implements MathPort {
  baselines = 0
  postprocesses = 0

  constructor(
    private readonly sup: () => Supervisor,
    private readonly config: TsfmConfig,
  ) {}

  /** Like the pool's first jobs of a turn: the test picks with `queueBaselines`. */
  queueBaselines = false

  tryBaseline(req: ForecastRequest): BandResult | null {
    if (this.queueBaselines) return null
    this.baselines++
    return toBand(computeJob(baselineJob(req, this.config)))
  }

  baseline(ticket: number, req: ForecastRequest): void {
    this.baselines++
    this.sup().onMath(ticket, toBand(computeJob(baselineJob(req, this.config))))
  }

  postprocess(ticket: number, req: ForecastRequest, values: Float64Array): void {
    this.postprocesses++
    this.sup().onMath(ticket, toBand(computeJob(postprocessJob(req, values, this.config))))
  }

  baselineNow(req: ForecastRequest): BandResult {
    this.baselines++
    return toBand(computeJob(baselineJob(req, this.config)))
  }
}

export class Answers implements AnswerSink {
  readonly answers: ForecastResponse[] = []
  readonly errors: TsfmError[] = []
  readonly byTag = new Map<number, ForecastResponse>()

  answer(response: ForecastResponse, waiter: Waiter): void {
    this.answers.push(response)
    this.byTag.set(waiter.tag, response)
  }

  fail(error: TsfmError): void {
    this.errors.push(error)
  }

  get count(): number {
    return this.answers.length + this.errors.length
  }

  reasons(): (string | null)[] {
    return this.answers.map((a) => a.meta.fallback_reason)
  }
}

export interface Harness {
  readonly clock: ManualClock
  readonly config: TsfmConfig
  readonly sup: Supervisor
  readonly upstream: FakeUpstream
  readonly math: InlineMath
  readonly metrics: Metrics
  request(body: Record<string, unknown>): ForecastRequest
}

export function harness(input?: ConfigInput, opts: { l2?: L2Port } = {}): Harness {
  const config = resolveConfig(input).config
  const clock = new ManualClock(Date.UTC(2026, 1, 20))
  const metrics = new Metrics({ defaultMetrics: false })
  let sup: Supervisor | null = null
  const get = (): Supervisor => sup as Supervisor
  const upstream = new FakeUpstream(get)
  const math = new InlineMath(get, config)
  sup = new Supervisor({ config, clock, metrics, logger: silentLogger(), random: () => 0.5, math, upstream, ...(opts.l2 === undefined ? {} : { l2: opts.l2 }) })
  const defaults = defaultsFromConfig(config)
  return {
    clock,
    config,
    sup,
    upstream,
    math,
    metrics,
    request(body) {
      const v = validateForecastRequest(body, defaults)
      if (!v.ok) throw v.error
      return v.value
    },
  }
}

/** A valid body for `market` with `n` points (defaults: 64 points, eligible for the upstream). */
export function marketBody(market: string, n = 64, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(n), ...extra }
}
