import { Pool, type Dispatcher } from 'undici'
import type { Clock, TimerHandle } from '../../clock/clock.js'
import type { AdapterConfig } from '../../config/types.js'
import { baseUrls } from '../../config/base-urls.js'
import { classifyError, classifyStatus, NOT_FOUND, ROUTE_MISSING, UNAVAILABLE, type Failure } from './classify.js'
import { ERROR_BODY_LIMIT, failed, ForecastExchange, type ForecastResult } from './exchange.js'
import { KeepAliveCap } from './keepalive.js'
import type { Cancel } from './cancel.js'
import { MEMBER_IDS_HEADER } from './upstream-ids.js'

/**
 * The HTTP side of the I/O actor: one undici Pool per upstream origin (no fetch), every body
 * consumed or destroyed, no global dispatcher (the host may be a trading app with its own).
 * Every call resolves — to an answer text or a typed failure — and never rejects; raw error
 * text and URLs stay in here. Forecasts go through `dispatch` with a handler (exchange.ts);
 * the rare health probe through `request()`.
 *
 * The only abort is the one on the HTTP request: it fires when the attempt's timeout (already
 * cut to the deadline by the caller) passes.
 */

export type ForecastPath = '/api/forecast' | '/v1/forecast'

export type { ForecastResult }

export interface VersionResult {
  /** `ok`, or why the probe failed. */
  readonly outcome: 'ok' | Failure['reason']
  readonly version: string | null
}

class BodyTooLarge extends Error {}

/**
 * The one AbortController of an HTTP attempt (SPEC §4: deadlines are plain numbers; only the
 * request itself is aborted), fired by the clock after `timeoutMs`; `timedOut` tells a timeout
 * from any other abort or network error.
 */
class AttemptTimer {
  readonly #controller = new AbortController()
  readonly #clock: Clock
  readonly #handle: TimerHandle
  timedOut = false

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock
    this.#handle = clock.setTimeout(() => {
      this.timedOut = true
      this.#controller.abort()
    }, timeoutMs)
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  clear(): void {
    this.#clock.clearTimeout(this.#handle)
  }
}

async function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      body.destroy()
      throw new BodyTooLarge()
    }
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8')
}

/** An `/api/tags` answer lists a few hundred bytes per model; 1 MiB is thousands of models. */
const TAGS_BODY_LIMIT = 1 << 20

/** The `name` of each entry of `{"models":[...]}`, or null if the text is not that shape. */
export function modelNames(text: string): string[] | null {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return null
  }
  const models = typeof data === 'object' && data !== null ? (data as { models?: unknown }).models : undefined
  if (!Array.isArray(models)) return null
  const names: string[] = []
  for (const m of models) {
    const name = typeof m === 'object' && m !== null ? (m as { name?: unknown }).name : undefined
    if (typeof name === 'string') names.push(name)
  }
  return names
}

/** A GET that got an answer (any status). */
class Answered {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {}
}

/** A GET that failed: what undici (or the body limit) threw, and whether our timer caused it. */
class Failed {
  constructor(
    readonly error: unknown,
    readonly timedOut: boolean,
  ) {}
}

export class TollamaClient {
  readonly #clock: Clock
  readonly #pool: Pool
  readonly #keepAlive: KeepAliveCap
  readonly #prefix: string
  readonly #headers: Record<string, string>
  readonly #getHeaders: Record<string, string>
  #path: ForecastPath = '/api/forecast'
  #closed = false
  readonly #trim = (): void => void this.#keepAlive.trim()

  /** `baseUrl`: which replica of `cfg.base_url` this client talks to (the first by default). */
  constructor(cfg: AdapterConfig, clock: Clock, baseUrl: string = baseUrls(cfg)[0] as string) {
    const url = new URL(baseUrl)
    this.#clock = clock
    // A base_url with a path (`http://h/tollama`) prefixes every route.
    this.#prefix = url.pathname.replace(/\/+$/, '')
    this.#keepAlive = new KeepAliveCap(cfg.max_keepalive_connections)
    this.#pool = new Pool(url.origin, {
      connections: cfg.max_connections,
      pipelining: 1,
      keepAliveTimeout: cfg.keepalive_timeout_ms,
      keepAliveMaxTimeout: cfg.keepalive_timeout_ms,
      factory: this.#keepAlive.factory,
    })
    const auth: Record<string, string> = cfg.api_token === null ? {} : { authorization: `Bearer ${cfg.api_token}` }
    this.#headers = { 'content-type': 'application/json', accept: 'application/json', ...auth }
    this.#getHeaders = { accept: 'application/json', ...auth }
  }

  /** The forecast route in use; it starts at `/api/forecast` and is remembered once switched. */
  get forecastPath(): ForecastPath {
    return this.#path
  }

  /** After a route 404 on `from`: use the other route (unless another request already switched). */
  switchRoute(from: ForecastPath): ForecastPath {
    if (this.#path === from) this.#path = from === '/api/forecast' ? '/v1/forecast' : '/api/forecast'
    return this.#path
  }

  /** Idle keep-alive connections right now (for tests and stats). */
  get idleConnections(): number {
    return this.#keepAlive.idle
  }

  /**
   * POST one forecast body; `maxBytes` bounds the answer read into memory; `cancel` can end it
   * early. `requestId` is sent as `X-Request-Id` and `memberIds` as `X-Tsfm-Request-Ids`
   * (upstream-ids.ts), each when not null.
   */
  forecast(
    path: ForecastPath,
    body: string,
    timeoutMs: number,
    maxBytes: number,
    cancel: Cancel | null = null,
    requestId: string | null = null,
    memberIds: string | null = null,
  ): Promise<ForecastResult> {
    if (this.#closed) return Promise.resolve(failed(UNAVAILABLE))
    return new Promise<ForecastResult>((resolve) => {
      const exchange = new ForecastExchange(this.#clock, timeoutMs, maxBytes, resolve, this.#trim)
      cancel?.bind(() => exchange.cancel())
      const opts: Dispatcher.DispatchOptions = { method: 'POST', path: this.#prefix + path, headers: this.#forecastHeaders(requestId, memberIds), body }
      try {
        this.#pool.dispatch(opts, exchange)
      } catch (e) {
        exchange.onResponseError(null, e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  /** The forecast headers with this request's ids: one small object per HTTP request. */
  #forecastHeaders(requestId: string | null, memberIds: string | null): Record<string, string> {
    if (requestId === null && memberIds === null) return this.#headers
    const headers = { ...this.#headers }
    if (requestId !== null) headers['x-request-id'] = requestId
    if (memberIds !== null) headers[MEMBER_IDS_HEADER] = memberIds
    return headers
  }

  /** `GET /api/version`: tollama's cheap liveness probe. Never rejects. */
  async version(timeoutMs: number): Promise<VersionResult> {
    if (this.#closed) return { outcome: UNAVAILABLE.reason, version: null }
    const res = await this.#get('/api/version', ERROR_BODY_LIMIT, timeoutMs)
    if (res instanceof Failed) return { outcome: classifyError(res.error, res.timedOut).reason, version: null }
    if (res.status !== 200) {
      const verdict = classifyStatus(res.status, null)
      return { outcome: verdict === ROUTE_MISSING ? NOT_FOUND.reason : verdict.reason, version: null }
    }
    let version: string | null = null
    try {
      const v = (JSON.parse(res.text) as { version?: unknown }).version
      if (typeof v === 'string') version = v
    } catch {
      // a 200 that is not JSON still proves the daemon is up
    }
    return { outcome: 'ok', version }
  }

  /**
   * `GET /api/tags`: the names of the installed models as tollama gives them (`chronos2:latest`
   * keeps its tag), or null when tollama is unreachable, times out, or answers anything but a 200
   * with `{"models":[{"name":...}]}`. Entries without a string name are skipped. Never rejects.
   */
  async tags(timeoutMs: number): Promise<string[] | null> {
    if (this.#closed) return null
    const res = await this.#get('/api/tags', TAGS_BODY_LIMIT, timeoutMs)
    return res instanceof Failed || res.status !== 200 ? null : modelNames(res.text)
  }

  /** A GET of `path` read whole (at most `limit` bytes) within `timeoutMs`. Never rejects. */
  async #get(path: string, limit: number, timeoutMs: number): Promise<Answered | Failed> {
    const attempt = new AttemptTimer(this.#clock, timeoutMs)
    try {
      const res = await this.#pool.request({ method: 'GET', path: this.#prefix + path, headers: this.#getHeaders, signal: attempt.signal })
      return new Answered(res.statusCode, await readText(res.body, limit))
    } catch (e) {
      return new Failed(e, attempt.timedOut)
    } finally {
      attempt.clear()
      this.#keepAlive.trim()
    }
  }

  /** Stop: in-flight requests fail at once (as `upstream_unavailable`), sockets close. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.destroy().catch(() => undefined)
  }
}
