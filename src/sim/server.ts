import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js'
import { isTsfmError } from '../errors.js'
import { checkFaultRates, checkSchedule, resolveSimConfig, type SimConfig } from './config.js'
import { FaultPlan, faultPhase } from './faults.js'
import { LatencyModel } from './latency.js'
import { runModel, type ForecastResponse } from './model.js'
import type { GateJob } from './model-gate.js'
import { ModelLanes } from './model-lanes.js'
import {
  FAULT_BODIES,
  HEALTH_BODY,
  HTML_PAGE,
  HTML_TYPE,
  JSON_TYPE,
  METHOD_NOT_ALLOWED_BODY,
  NDJSON_TYPE,
  NOT_FOUND_BODY,
  VERSION_BODY,
  detailBody,
  modelMissingBody,
  send,
  validationBody,
} from './responses.js'
import { SimStatsCollector } from './stats.js'
import type { FaultKind, SimFaultUpdate, SimLatencyUpdate, SimOptions, SimStats, Simulator } from './types.js'
import { parseForecastBody, type SimForecastRequest } from './validate.js'

/**
 * The tollama simulator's HTTP server (node:http, keep-alive on). A test and benchmark tool: it
 * answers tollama's forecast API with a deterministic model (model.ts), holds each forecast
 * request's model for `fixed + perSeries × n` ms, plus a load when the model is cold (latency.ts,
 * residency.ts; optionally one request at a time per model: model-gate.ts, model-lanes.ts) and
 * injects faults from a schedule or seeded rates (faults.ts).
 */

type RouteName = 'version' | 'health' | 'ready' | 'tags' | 'ps' | 'forecast'

interface RouteSpec {
  readonly name: RouteName
  readonly methods: readonly string[]
  /** Starlette's `Allow` header of a 405. */
  readonly allow: string
}

const GET: readonly string[] = ['GET', 'HEAD']
const POST: readonly string[] = ['POST']

const ROUTES: ReadonlyMap<string, RouteSpec> = new Map([
  ['/api/version', { name: 'version', methods: GET, allow: 'GET, HEAD' }],
  ['/v1/health', { name: 'health', methods: GET, allow: 'GET, HEAD' }],
  ['/health/live', { name: 'health', methods: GET, allow: 'GET, HEAD' }],
  ['/health/ready', { name: 'ready', methods: GET, allow: 'GET, HEAD' }],
  ['/api/tags', { name: 'tags', methods: GET, allow: 'GET, HEAD' }],
  ['/api/ps', { name: 'ps', methods: GET, allow: 'GET, HEAD' }],
  ['/api/forecast', { name: 'forecast', methods: POST, allow: 'POST' }],
  ['/v1/forecast', { name: 'forecast', methods: POST, allow: 'POST' }],
])

/** Larger forecast bodies get a 413: the simulator's memory stays bounded. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024
const MAX_CONTROL_BODY_BYTES = 1024 * 1024
/** Model names remembered for `/api/ps` (and `/api/tags` when any name is accepted). */
const MAX_SEEN_MODELS = 64
/** A slow body arrives in this many pieces spread evenly over `slowBodyMs`. */
const SLOW_BODY_PIECES = 16
const NAN_SENTINEL = '__tollama_sim_nan__'

/** One forecast request from arrival to its last byte. */
class ForecastExchange implements GateJob {
  costMs = 0
  loadMs = 0
  timer: TimerHandle | null = null
  /** hang (with `hangMs`) and slow-body timers. */
  pending: TimerHandle | null = null
  request: SimForecastRequest | null = null
  slowPayload: Buffer | null = null
  slowOffset = 0
  slowPiece = 0
  slowIntervalMs = 0

  constructor(
    readonly sim: SimServer,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly streamable: boolean,
    readonly arrivedAt: number,
    readonly fault: FaultKind | null,
  ) {}

  get series(): number {
    return this.request === null ? 0 : this.request.series.length
  }

  modelDone(): void {
    this.sim.answer(this)
  }
}

function noop(): void {}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}

function readBody(req: IncomingMessage, limit: number, done: (text: string | null) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  req.on('data', (chunk: Buffer) => {
    if (over) return
    size += chunk.length
    if (size > limit) {
      over = true
      chunks.length = 0
      return
    }
    chunks.push(chunk)
  })
  req.on('end', () => done(over ? null : chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')))
  req.on('error', noop)
}

export class SimServer implements Simulator {
  readonly #config: SimConfig
  readonly #clock: Clock
  readonly #server: Server
  readonly #stats = new SimStatsCollector()
  readonly #lanes: ModelLanes
  readonly #faults: FaultPlan
  readonly #latency: LatencyModel
  readonly #sockets = new Set<Socket>()
  readonly #live = new Set<ForecastExchange>()
  readonly #seenModels = new Set<string>()
  #port = 0
  #closed = false
  #closing: Promise<void> | null = null

  constructor(config: SimConfig, clock: Clock = systemClock) {
    this.#config = config
    this.#clock = clock
    this.#faults = new FaultPlan(config.faults, config.schedule, config.seed)
    this.#latency = new LatencyModel(config.latencyFixedMs, config.latencyPerSeriesMs, config.coldStartMs, config.keepAliveMs)
    this.#lanes = new ModelLanes(config.serial, clock, this.#latency)
    // uvicorn's keep-alive timeout is 5 s; the same here so pool reuse behaves alike.
    this.#server = createServer({ keepAliveTimeout: 5000 }, (req, res) => this.#onRequest(req, res))
    this.#server.on('connection', (socket: Socket) => this.#onConnection(socket))
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  get port(): number {
    return this.#port
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen({ host: this.#config.host, port: this.#config.port }, () => {
        this.#server.off('error', reject)
        const address = this.#server.address()
        this.#port = typeof address === 'object' && address !== null ? address.port : 0
        resolve()
      })
    })
  }

  stats(): SimStats {
    return this.#stats.snapshot(this.#lanes.summary())
  }

  resetStats(): void {
    this.#stats.reset()
    this.#lanes.resetStats()
  }

  setFaults(f: SimFaultUpdate): void {
    const rates = f.faults === undefined ? undefined : checkFaultRates(f.faults)
    const schedule = f.schedule === undefined ? undefined : checkSchedule(f.schedule)
    if (rates !== undefined) this.#faults.setRates(rates)
    if (schedule !== undefined) this.#faults.setSchedule(schedule)
  }

  setLatency(l: SimLatencyUpdate): void {
    this.#latency.update(l)
  }

  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing
    this.#closed = true
    this.#lanes.close()
    for (const ex of this.#live) this.#cancelPending(ex)
    this.#live.clear()
    this.#closing = new Promise((resolve) => {
      this.#server.close(() => resolve())
      for (const socket of this.#sockets) socket.destroy()
    })
    return this.#closing
  }

  // ---- connections and routing -----------------------------------------------------------------

  #onConnection(socket: Socket): void {
    if (this.#closed) {
      socket.destroy()
      return
    }
    this.#sockets.add(socket)
    this.#stats.connections++
    this.#stats.openConnections++
    socket.on('error', noop)
    socket.once('close', () => {
      this.#sockets.delete(socket)
      this.#stats.openConnections--
    })
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', noop)
    req.on('error', noop)
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'
    if (path.startsWith('/_sim/')) {
      this.#onControl(req, res, path, method)
      return
    }
    this.#stats.requests++
    const requestId = req.headers['x-request-id']
    if (typeof requestId === 'string') res.setHeader('x-request-id', requestId)
    res.setHeader('server', 'tollama-sim')
    const route = ROUTES.get(path)
    if (route === undefined) {
      this.#stats.route('unknown')
      send(res, 404, NOT_FOUND_BODY)
      return
    }
    this.#stats.route(`${method} ${path}`)
    if (!route.methods.includes(method)) {
      send(res, 405, METHOD_NOT_ALLOWED_BODY, JSON_TYPE, { allow: route.allow })
      return
    }
    switch (route.name) {
      case 'version':
        send(res, 200, VERSION_BODY)
        return
      case 'health':
        send(res, 200, HEALTH_BODY)
        return
      case 'ready':
        send(res, 200, '{"status":"ready"}')
        return
      case 'tags':
        send(res, 200, JSON.stringify({ models: this.#installed().map(tagOf) }))
        return
      case 'ps':
        send(res, 200, JSON.stringify({ models: [...this.#seenModels].map(psOf) }))
        return
      case 'forecast':
        if (path === '/api/forecast' && this.#config.disableApiRoute) {
          send(res, 404, NOT_FOUND_BODY)
          return
        }
        this.#onForecast(req, res, path === '/api/forecast')
        return
    }
  }

  #installed(): readonly string[] {
    return this.#config.models ?? [...this.#seenModels]
  }

  // ---- forecast --------------------------------------------------------------------------------

  #onForecast(req: IncomingMessage, res: ServerResponse, streamable: boolean): void {
    this.#stats.forecastRequests++
    this.#stats.requestIds(req.headers)
    const ex = new ForecastExchange(this, req, res, streamable, this.#clock.now(), this.#faults.next())
    this.#live.add(ex)
    res.once('close', () => {
      this.#cancelPending(ex)
      this.#live.delete(ex)
    })
    readBody(req, MAX_BODY_BYTES, (text) => {
      if (this.#closed) return
      if (text === null) {
        send(res, 413, detailBody('Request Entity Too Large'), JSON_TYPE, { connection: 'close' })
        return
      }
      this.#arrived(ex, text)
    })
  }

  /** The whole body is in: arrival-phase faults, then validation. */
  #arrived(ex: ForecastExchange, text: string): void {
    const fault = ex.fault
    if (fault !== null && faultPhase(fault) === 'arrival') {
      this.#stats.fault(fault)
      switch (fault) {
        case 'route_404':
          send(ex.res, 404, NOT_FOUND_BODY)
          return
        case 'http_429':
          send(ex.res, 429, FAULT_BODIES.http_429, JSON_TYPE, { 'retry-after': String(this.#config.retryAfterS) })
          return
        case 'reset':
          // A TCP RST, not a FIN: the client sees ECONNRESET with no response.
          ex.req.socket.resetAndDestroy()
          return
        case 'hang':
          // Never answer (close() ends it), or answer normally once hangMs has passed.
          if (this.#config.hangMs !== null) {
            ex.pending = this.#clock.setTimeout(() => {
              ex.pending = null
              if (!this.#closed) this.#validate(ex, text)
            }, this.#config.hangMs)
          }
          return
      }
    }
    this.#validate(ex, text)
  }

  #cancelPending(ex: ForecastExchange): void {
    if (ex.pending !== null) this.#clock.clearTimeout(ex.pending)
    ex.pending = null
  }

  #validate(ex: ForecastExchange, text: string): void {
    const result = parseForecastBody(text, ex.req.headers['content-type'], ex.streamable)
    if (!result.ok) {
      send(ex.res, 400, validationBody(result.issues))
      return
    }
    const request = result.request
    const models = this.#config.models
    if (models !== null && !models.includes(request.model)) {
      send(ex.res, 404, modelMissingBody(request.model))
      return
    }
    if (ex.fault === 'model_404') {
      this.#stats.fault('model_404')
      send(ex.res, 404, modelMissingBody(request.model))
      return
    }
    if (this.#seenModels.size < MAX_SEEN_MODELS) this.#seenModels.add(request.model)
    this.#stats.batch(request.series.length)
    ex.request = request
    ex.costMs = this.#latency.costMs(request.series.length)
    this.#lanes.enter(request.model, ex)
  }

  /** The model released the request (ModelGate → ForecastExchange.modelDone). */
  answer(ex: ForecastExchange): void {
    if (this.#closed) return
    const request = ex.request as SimForecastRequest
    const result = runModel(request, this.#config.spread)
    if (!result.ok) {
      send(ex.res, 400, detailBody(result.detail))
      return
    }
    const response: ForecastResponse = {
      model: request.model,
      forecasts: result.forecasts,
      timing: {
        model_load_ms: round3(ex.loadMs),
        inference_ms: round3(ex.costMs),
        total_ms: round3(this.#clock.now() - ex.arrivedAt),
      },
      usage: { horizon: request.horizon, runner: 'tollama-sim', series_count: request.series.length },
      metrics: null,
      explanation: null,
      narrative: null,
      preprocessing: null,
      warnings: null,
    }
    const fault = ex.fault
    if (fault !== null && faultPhase(fault) === 'response') this.#stats.fault(fault)
    switch (fault) {
      case 'http_500':
      case 'http_502':
      case 'http_503':
      case 'http_504':
        send(ex.res, Number(fault.slice(5)), FAULT_BODIES[fault])
        return
      case 'html':
        send(ex.res, 200, HTML_PAGE, HTML_TYPE)
        return
      case 'missing_series':
        response.forecasts.pop()
        break
      case 'wrong_ids':
        for (const f of response.forecasts) f.id = `${f.id}~wrong`
        break
      case 'nan': {
        const first = response.forecasts[0]
        if (first !== undefined) {
          const path = first.quantiles === null ? first.mean : (Object.values(first.quantiles)[0] as number[])
          ;(path as unknown[])[0] = NAN_SENTINEL
        }
        break
      }
      default:
        break
    }
    const stream = ex.streamable && request.stream
    let body = stream
      ? '{"status":"loading model"}\n{"status":"running forecast"}\n' + JSON.stringify({ done: true, response }) + '\n'
      : JSON.stringify(response)
    // Python's json.dumps writes a NaN float as the bare literal NaN (not valid JSON).
    if (fault === 'nan') body = body.replace(`"${NAN_SENTINEL}"`, 'NaN')
    // A body cut in the middle (a crashed writer or proxy), still announced as JSON.
    if (fault === 'invalid_json') body = body.slice(0, Math.max(1, Math.floor(body.length / 2)))
    const contentType = stream ? NDJSON_TYPE : JSON_TYPE
    if (fault === 'slow_body') {
      this.#trickle(ex, contentType, body, stream)
      return
    }
    if (stream) {
      if (ex.res.destroyed) return
      ex.res.writeHead(200, { 'content-type': NDJSON_TYPE })
      ex.res.end(body)
      return
    }
    send(ex.res, 200, body, contentType)
  }

  /** slow_body: headers at once, then the body in SLOW_BODY_PIECES pieces over slowBodyMs. */
  #trickle(ex: ForecastExchange, contentType: string, body: string, chunked: boolean): void {
    const res = ex.res
    if (res.destroyed) return
    const payload = Buffer.from(body, 'utf8')
    const headers: Record<string, string | number> = { 'content-type': contentType }
    if (!chunked) headers['content-length'] = payload.length
    res.writeHead(200, headers)
    res.flushHeaders()
    ex.slowPayload = payload
    ex.slowOffset = 0
    ex.slowPiece = Math.max(1, Math.ceil(payload.length / SLOW_BODY_PIECES))
    ex.slowIntervalMs = this.#config.slowBodyMs / SLOW_BODY_PIECES
    ex.pending = this.#clock.setTimeout(() => this.#trickleNext(ex), ex.slowIntervalMs)
  }

  #trickleNext(ex: ForecastExchange): void {
    ex.pending = null
    const payload = ex.slowPayload as Buffer
    if (this.#closed || ex.res.destroyed) return
    const end = Math.min(payload.length, ex.slowOffset + ex.slowPiece)
    const piece = payload.subarray(ex.slowOffset, end)
    ex.slowOffset = end
    if (end >= payload.length) {
      ex.res.end(piece)
      return
    }
    ex.res.write(piece)
    ex.pending = this.#clock.setTimeout(() => this.#trickleNext(ex), ex.slowIntervalMs)
  }

  // ---- control routes (out-of-process benchmarks) ----------------------------------------------

  #onControl(req: IncomingMessage, res: ServerResponse, path: string, method: string): void {
    const expected = path === '/_sim/stats' ? 'GET' : ['/_sim/reset', '/_sim/faults', '/_sim/latency'].includes(path) ? 'POST' : null
    if (expected === null) {
      send(res, 404, NOT_FOUND_BODY)
      return
    }
    if (method !== expected) {
      send(res, 405, METHOD_NOT_ALLOWED_BODY, JSON_TYPE, { allow: expected })
      return
    }
    if (path === '/_sim/stats') {
      send(res, 200, JSON.stringify(this.stats()))
      return
    }
    if (path === '/_sim/reset') {
      this.resetStats()
      send(res, 200, '{"ok":true}')
      return
    }
    readBody(req, MAX_CONTROL_BODY_BYTES, (text) => {
      if (text === null) {
        send(res, 413, detailBody('Request Entity Too Large'))
        return
      }
      try {
        const body: unknown = text.length === 0 ? {} : JSON.parse(text)
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TypeError('the body must be a JSON object')
        const allowed = path === '/_sim/faults' ? ['faults', 'schedule'] : ['fixedMs', 'perSeriesMs', 'coldStartMs', 'keepAliveMs']
        for (const key of Object.keys(body)) {
          if (!allowed.includes(key)) throw new TypeError(`unknown field ${JSON.stringify(key)} (allowed: ${allowed.join(', ')})`)
        }
        if (path === '/_sim/faults') this.setFaults(body as SimFaultUpdate)
        else this.setLatency(body as SimLatencyUpdate)
        send(res, 200, '{"ok":true}')
      } catch (e) {
        const message = isTsfmError(e) || e instanceof Error ? e.message : String(e)
        send(res, 400, detailBody(message))
      }
    })
  }
}

function tagOf(name: string): Record<string, unknown> {
  return {
    name,
    model: name,
    modified_at: '1970-01-01T00:00:00Z',
    size: 0,
    digest: 'tollama-sim',
    details: { family: 'sim', format: 'tollama-sim' },
  }
}

function psOf(name: string): Record<string, unknown> {
  return { name, model: name, expires_at: null, size: 0, size_vram: 0, context_length: 0, details: { family: 'sim' } }
}

/** Starts a simulator on 127.0.0.1; rejects (never throws) on an invalid option or a busy port. */
export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const sim = new SimServer(resolveSimConfig(opts))
  await sim.listen()
  return sim
}
