import type { Dispatcher } from 'undici'
import type { Clock, TimerHandle } from '../../clock/clock.js'
import { classifyError, classifyStatus, INVALID_PAYLOAD, ROUTE_MISSING, TIMEOUT, type Failure } from './classify.js'
import { errorDetail } from './parse.js'
import { parseRetryAfter } from './retry.js'

/**
 * One forecast POST as an undici dispatch handler: the answer's chunks are collected as they
 * arrive and the result is decided when the response ends, fails or times out.
 *
 * Why not `pool.request()`: request() wraps every response in a Readable body stream read back
 * through promises, which the I/O thread pays on the path of every forecast. For a 288-point
 * forecast against the simulator (in-process, answering at once), one at a time:
 * perf/io/exchange.bench.ts measured 364 µs a round trip against 573 µs (mitata mean), and
 * 301 µs wall / 304 µs CPU of client and simulator together against 366 / 400 µs. Through the
 * daemon that was 5–9 % off the added p50 (perf/overhead/compare-builds.ts, against the build
 * before it).
 *
 * Timeouts: the attempt's timer settles the exchange as `upstream_timeout` at once and aborts
 * the request — at once if it is on a socket, else as soon as undici starts it (a request still
 * queued in the Pool has no controller yet). Whatever undici reports after settling is ignored.
 */

export type ForecastResult =
  | { readonly kind: 'ok'; readonly text: string }
  | { readonly kind: 'failed'; readonly failure: Failure; readonly retryAfterMs: number | null }
  | { readonly kind: typeof ROUTE_MISSING }
  /** Ended by its `Cancel` (cancel.ts): another request answered its members. */
  | { readonly kind: 'cancelled' }

/** Error bodies are read only to tell a model 404 from a route 404; more is never needed. */
export const ERROR_BODY_LIMIT = 64 * 1024

export function failed(failure: Failure, retryAfterMs: number | null = null): ForecastResult {
  return { kind: 'failed', failure, retryAfterMs }
}

class AnswerTooLarge extends Error {}

const CANCELLED: ForecastResult = Object.freeze({ kind: 'cancelled' as const })

export class ForecastExchange implements Dispatcher.DispatchHandler {
  readonly #clock: Clock
  readonly #maxBytes: number
  readonly #resolve: (r: ForecastResult) => void
  readonly #onSettled: () => void
  readonly #timer: TimerHandle
  #controller: Dispatcher.DispatchController | null = null
  #settled = false
  #timedOut = false
  #status = 0
  #limit = 0
  #size = 0
  #chunks: Buffer[] = []
  #retryAfter: string | null = null

  /**
   * `resolve` receives the result exactly once; `onSettled` runs after it (the keep-alive cap's
   * trim, on a microtask so the finished request has released its socket).
   */
  constructor(clock: Clock, timeoutMs: number, maxBytes: number, resolve: (r: ForecastResult) => void, onSettled: () => void) {
    this.#clock = clock
    this.#maxBytes = maxBytes
    this.#resolve = resolve
    this.#onSettled = onSettled
    this.#timer = clock.setTimeout(this.#onTimeout, timeoutMs)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#settled) controller.abort(new Error('attempt timed out before it started'))
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#status = statusCode
    const ok = statusCode >= 200 && statusCode < 300
    this.#limit = ok ? this.#maxBytes : ERROR_BODY_LIMIT
    if (!ok && statusCode !== 404) {
      const v = headers['retry-after']
      this.#retryAfter = typeof v === 'string' ? v : null
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return
    this.#size += chunk.length
    if (this.#size > this.#limit) {
      // More than we accept: decide now from what we know, and drop the connection.
      this.#settle(this.#ok() ? failed(INVALID_PAYLOAD) : this.#errorResult(null))
      controller.abort(new AnswerTooLarge())
      return
    }
    // Other error bodies are drained, not kept: only a 404's `detail` is ever read.
    if (this.#ok() || this.#status === 404) this.#chunks.push(chunk)
  }

  onResponseEnd(): void {
    if (this.#settled) return
    if (this.#ok()) return this.#settle({ kind: 'ok', text: this.#text() })
    this.#settle(this.#errorResult(this.#status === 404 ? errorDetail(this.#text()) : null))
  }

  /** Also called by the client when `dispatch` itself throws (then with no controller). */
  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    if (!this.#settled) this.#settle(failed(classifyError(err, this.#timedOut)))
  }

  /** The other request of a hedged pair answered: end this one now, quietly. */
  cancel(): void {
    if (this.#settled) return
    this.#settle(CANCELLED)
    this.#controller?.abort(new Error('cancelled: answered by its hedge'))
  }

  readonly #onTimeout = (): void => {
    this.#timedOut = true
    if (this.#settled) return
    this.#settle(failed(TIMEOUT))
    this.#controller?.abort(new Error('attempt timed out'))
  }

  #ok(): boolean {
    return this.#status >= 200 && this.#status < 300
  }

  #text(): string {
    const chunks = this.#chunks
    return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, this.#size).toString('utf8')
  }

  /** A non-2xx answer's result; `detail` is a 404 body's `detail`. */
  #errorResult(detail: string | null): ForecastResult {
    const verdict = classifyStatus(this.#status, detail)
    if (verdict === ROUTE_MISSING) return { kind: ROUTE_MISSING }
    return failed(verdict, this.#status === 404 ? null : parseRetryAfter(this.#retryAfter, this.#clock.now()))
  }

  #settle(result: ForecastResult): void {
    this.#settled = true
    this.#chunks = []
    if (!this.#timedOut) this.#clock.clearTimeout(this.#timer)
    this.#resolve(result)
    queueMicrotask(this.#onSettled)
  }
}
