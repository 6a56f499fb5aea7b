import type { Clock } from '../clock/clock.js'
import type { TsfmError } from '../errors.js'
import type { ForecastRequest } from '../request/types.js'
import type { ForecastResponse } from '../response.js'
import type { AnswerSink, Waiter } from './flight.js'
import type { Supervisor } from './supervisor.js'

/**
 * A top-N cycle (SPEC §2.2, §9): markets served in a deterministic priority order (liquidity
 * bucket high > mid > other > low, then request order), fed to the supervisor no faster than
 * its upstream slots free up — so no market of the cycle waits out its queue timeout behind the
 * others — and finished inside the budget: every request gets a deadline no later than the
 * budget's end minus a reserve, and when too little budget is left for an upstream round trip
 * the rest are answered from the baseline (`cycle_budget_exhausted`).
 */

export interface CycleItem {
  /** Index of the request in the caller's array. */
  readonly index: number
  /** Position in the serving order (0 = first). */
  readonly rank: number
  readonly response: ForecastResponse
}

export interface CycleSummary {
  readonly count: number
  readonly budget_ms: number
  readonly wall_ms: number
  readonly by_runtime: Readonly<Record<string, number>>
  readonly by_fallback_reason: Readonly<Record<string, number>>
  readonly latency_ms: { readonly p50: number; readonly p95: number; readonly p99: number }
}

export interface CycleOptions {
  readonly budgetMs: number
  /** Yield in serving (priority) order (default) or as each market completes (NDJSON streaming). */
  readonly order?: 'priority' | 'completion'
  /** Requests of this cycle in flight at once; default `perf.worker_concurrency`. */
  readonly concurrency: number
  /** Budget kept back for post-processing and serialisation (ms). */
  readonly reserveMs: number
  /** Called once when the last result has been yielded (or the cycle failed). */
  readonly onFinish?: (cycle: Cycle) => void
  /** The caller's request id (already valid) for every market of the cycle, or null. */
  readonly requestId?: string | null
}

const RANK: Readonly<Record<string, number>> = { high: 0, mid: 1, medium: 1 }
const DONE: IteratorResult<CycleItem> = Object.freeze({ value: undefined, done: true })

/** Priority of a liquidity bucket: high 0, mid/medium 1, anything else 2, low 3. */
export function bucketRank(bucket: string | null): number {
  if (bucket === null) return 2
  const b = bucket.toLowerCase()
  return b === 'low' ? 3 : (RANK[b] ?? 2)
}

/** The serving order: indices of `requests`, stable-sorted by bucket rank. */
export function servingOrder(requests: readonly ForecastRequest[]): number[] {
  const idx = requests.map((_, i) => i)
  return idx.sort((a, b) => bucketRank((requests[a] as ForecastRequest).liquidity_bucket) - bucketRank((requests[b] as ForecastRequest).liquidity_bucket) || a - b)
}

export class Cycle implements AsyncIterableIterator<CycleItem>, AnswerSink {
  readonly #sup: Supervisor
  readonly #clock: Clock
  readonly #requests: readonly ForecastRequest[]
  readonly #order: number[]
  readonly #byRank: (CycleItem | undefined)[]
  readonly #completion: CycleItem[] = []
  readonly #yieldPriority: boolean
  readonly #concurrency: number
  readonly #start: number
  readonly #end: number
  readonly #reserveMs: number
  readonly #requestId: string | null
  readonly #budgetMs: number
  readonly #timer: ReturnType<Clock['setTimeout']>
  readonly #onFinish: ((cycle: Cycle) => void) | null
  /** The waiter of each rank sent to the supervisor and not answered yet (withdrawn on `return`). */
  readonly #waiters: (Waiter | null)[]
  #nextToSubmit = 0
  #nextToYield = 0
  #outstanding = 0
  #failure: TsfmError | null = null
  /** `next()` calls waiting for a result, oldest first (a caller may ask again before one settles). */
  #wakes: ((r: IteratorResult<CycleItem>) => void)[] = []
  /** The caller stopped iterating (`return()`): nothing more is sent, answers are dropped. */
  #stopped = false
  #summary: CycleSummary | null = null

  constructor(sup: Supervisor, clock: Clock, requests: readonly ForecastRequest[], opts: CycleOptions) {
    this.#sup = sup
    this.#clock = clock
    this.#requests = requests
    this.#order = servingOrder(requests)
    this.#byRank = new Array<CycleItem | undefined>(requests.length).fill(undefined)
    this.#waiters = new Array<Waiter | null>(requests.length).fill(null)
    this.#yieldPriority = (opts.order ?? 'priority') === 'priority'
    this.#concurrency = Math.max(1, opts.concurrency)
    this.#budgetMs = opts.budgetMs
    this.#reserveMs = opts.reserveMs
    this.#requestId = opts.requestId ?? null
    this.#start = clock.now()
    this.#end = this.#start + opts.budgetMs
    this.#onFinish = opts.onFinish ?? null
    // When the budget's usable part ends, whatever was not sent is answered from the baseline.
    this.#timer = clock.setTimeout(() => this.exhaust(), Math.max(0, opts.budgetMs - opts.reserveMs), true)
    this.#feed()
  }

  /** Available once the iterator has finished. */
  get summary(): CycleSummary | null {
    return this.#summary
  }

  // ---- AnswerSink -----------------------------------------------------------------------

  answer(response: ForecastResponse, waiter: Waiter): void {
    this.#outstanding--
    this.#waiters[waiter.tag] = null
    if (this.#stopped) return
    this.#complete(waiter.tag, response)
    this.#feed()
  }

  fail(error: TsfmError, waiter: Waiter): void {
    this.#outstanding--
    this.#waiters[waiter.tag] = null
    // After `return()` the failures are our own withdrawals; otherwise only a closing runner
    // fails a request, and the cycle ends with that error.
    if (this.#stopped) return
    this.#failure ??= error
    this.#flush()
  }

  // ---- feeding --------------------------------------------------------------------------

  #feed(): void {
    const n = this.#order.length
    while (this.#outstanding < this.#concurrency && this.#nextToSubmit < n && this.#failure === null) {
      const now = this.#clock.now()
      const usable = this.#end - this.#reserveMs - now
      const rank = this.#nextToSubmit++
      const index = this.#order[rank] as number
      const req = this.#requests[index] as ForecastRequest
      // Too little budget left for one upstream round trip: do not start what cannot finish.
      if (usable <= Math.max(1, this.#sup.upstreamLatencyMs)) {
        this.#complete(rank, this.#sup.baselineNow(req, 'cycle_budget_exhausted'))
        continue
      }
      this.#outstanding++
      const waiter = this.#sup.submit(req, this, { deadline: this.#end - this.#reserveMs, tag: rank, requestId: this.#requestId })
      if (waiter.state !== 'done') this.#waiters[rank] = waiter
    }
    this.#flush()
  }

  /**
   * Answer every request not yet sent from the baseline (`cycle_budget_exhausted`) — when the
   * budget's usable part ends, or when the runner drains. Requests already sent finish normally.
   */
  exhaust(): void {
    const n = this.#order.length
    while (this.#nextToSubmit < n) {
      const rank = this.#nextToSubmit++
      this.#complete(rank, this.#sup.baselineNow(this.#requests[this.#order[rank] as number] as ForecastRequest, 'cycle_budget_exhausted'))
    }
    this.#flush()
  }

  #complete(rank: number, response: ForecastResponse): void {
    const item: CycleItem = { index: this.#order[rank] as number, rank, response }
    this.#byRank[rank] = item
    this.#completion.push(item)
  }

  // ---- the iterator ---------------------------------------------------------------------

  #take(): CycleItem | undefined {
    if (this.#yieldPriority) {
      const item = this.#byRank[this.#nextToYield]
      if (item !== undefined) this.#nextToYield++
      return item
    }
    if (this.#nextToYield < this.#completion.length) return this.#completion[this.#nextToYield++]
    return undefined
  }

  #flush(): void {
    while (this.#wakes.length > 0) {
      const r = this.#result()
      if (r === null) return
      ;(this.#wakes.shift() as (r: IteratorResult<CycleItem>) => void)(r)
    }
  }

  #result(): IteratorResult<CycleItem> | null {
    const item = this.#take()
    if (item !== undefined) return { value: item, done: false }
    if (this.#nextToYield >= this.#order.length || (this.#failure !== null && this.#outstanding === 0)) {
      this.#finish()
      return { value: undefined, done: true }
    }
    return null
  }

  #finish(): void {
    if (this.#summary !== null) return
    this.#clock.clearTimeout(this.#timer)
    this.#summary = summarise(this.#completion, this.#budgetMs, this.#clock.now() - this.#start)
    this.#onFinish?.(this)
  }

  next(): Promise<IteratorResult<CycleItem>> {
    if (this.#stopped) return Promise.resolve(DONE)
    // Results go to `next()` calls in the order they were made.
    if (this.#wakes.length === 0) {
      if (this.#failure !== null && this.#outstanding === 0 && this.#take() === undefined) return Promise.reject(this.#failure)
      const r = this.#result()
      if (r !== null) return Promise.resolve(r)
    }
    return new Promise((resolve) => {
      this.#wakes.push(resolve)
    })
  }

  /**
   * The caller stopped iterating (`break` out of `for await`, or an explicit `return()`): no
   * more markets are sent, the requests still waiting are withdrawn (those nobody else waits for
   * leave the upstream queue), pending `next()` calls end, and the cycle leaves the runner.
   */
  return(): Promise<IteratorResult<CycleItem>> {
    if (!this.#stopped) {
      this.#stopped = true
      this.#nextToSubmit = this.#order.length
      for (let rank = 0; rank < this.#waiters.length; rank++) {
        const w = this.#waiters[rank]
        if (w !== null && w !== undefined) this.#sup.abort(w)
      }
      this.#finish()
    }
    const wakes = this.#wakes
    this.#wakes = []
    for (const wake of wakes) wake(DONE)
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<CycleItem> {
    return this
  }
}

function summarise(items: readonly CycleItem[], budgetMs: number, wallMs: number): CycleSummary {
  const byRuntime: Record<string, number> = {}
  const byReason: Record<string, number> = {}
  const lat = new Float64Array(items.length)
  for (let i = 0; i < items.length; i++) {
    const m = (items[i] as CycleItem).response.meta
    byRuntime[m.runtime] = (byRuntime[m.runtime] ?? 0) + 1
    if (m.fallback_reason !== null) byReason[m.fallback_reason] = (byReason[m.fallback_reason] ?? 0) + 1
    lat[i] = m.timings_ms.total
  }
  lat.sort()
  return {
    count: items.length,
    budget_ms: budgetMs,
    wall_ms: Math.round(wallMs * 1000) / 1000,
    by_runtime: byRuntime,
    by_fallback_reason: byReason,
    latency_ms: { p50: percentile(lat, 0.5), p95: percentile(lat, 0.95), p99: percentile(lat, 0.99) },
  }
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  return sorted[rank] as number
}
