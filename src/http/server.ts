import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify'
import { systemClock, type Clock } from '../clock/clock.js'
import type { TsfmConfig } from '../config/types.js'
import { TsfmError } from '../errors.js'
import type { Logger } from '../log.js'
import { cycleLimitsFromConfig } from '../request/cycle.js'
import { validRequestId } from '../request/request-id.js'
import { defaultsFromConfig } from '../request/validate.js'
import type { Runner } from '../runner.js'
import { Admission } from './admission.js'
import { TokenAuth } from './auth.js'
import { CycleRoute } from './cycle-route.js'
import { sendError, toTsfmError } from './error-reply.js'
import { ForecastRoute } from './forecast-route.js'
import { jsonBodyParser, type StringBodyParser } from './json-body.js'
import { ServerLifecycle } from './lifecycle.js'
import { createNodeServer } from './node-server.js'
import { RateLimiter } from './rate-limit.js'
import { ReplyBatch } from './reply-batch.js'
import { cycleResponseSchema, errorResponseSchema, forecastResponseSchema, outcomesResponseSchema } from './schemas.js'
import { openApiDocument } from './openapi.js'

export { toTsfmError } from './error-reply.js'

export interface ServerOptions {
  readonly runner: Runner
  readonly config: TsfmConfig
  readonly logger: Logger
  readonly clock?: Clock
}

/** Routes exempt from auth, rate limits and admission control (SPEC §2.3). */
const HEALTH = new Set(['/health/live', '/health/ready', '/health/startup'])
/** Routes answered however late the event loop is: the probes, and the metrics that explain it. */
const LAG_EXEMPT = new Set([...HEALTH, '/metrics'])
/** Known routes and their methods, for 405 answers. */
const ROUTES: Readonly<Record<string, string>> = {
  '/tsfm/forecast': 'POST',
  '/tsfm/cycle': 'POST',
  '/tsfm/outcomes': 'POST',
  '/tsfm/state': 'GET',
  '/openapi.json': 'GET',
  '/metrics': 'GET',
  '/health/live': 'GET',
  '/health/ready': 'GET',
  '/health/startup': 'GET',
}

/**
 * The HTTP daemon (SPEC §2): fastify for body limits, content-type handling, prototype-poisoning
 * protection, compiled response serialisation and graceful close. Protection runs in one
 * `onRequest` hook, cheapest first: shutting down (503), admission (503), auth (401), rate limit
 * (429) — before the body is even read. With `server.max_event_loop_delay_ms` set, a hook of
 * @fastify/under-pressure runs before it and sheds by event-loop lag (503 `TSFM_OVERLOADED`).
 * Every error answer carries FastAPI's `detail` and our `error` object, and never a stack trace,
 * an internal URL or upstream error text.
 *
 * `server.lifecycle` is the graceful stop (./lifecycle.ts), driven by the daemon's signals.
 */
export async function buildServer(opts: ServerOptions): Promise<TsfmServer> {
  const { runner, config, logger } = opts
  const clock = opts.clock ?? systemClock
  const server = config.server
  const app = Fastify({
    loggerInstance: logger,
    // Our own onResponse hook writes one line per request, at debug level only (SPEC §8).
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: fastify would build one (a pino child with the request id)
    // for every request, and we log per request only at debug level, from onResponse. The one
    // request-scoped line (an unexpected error) names the request id itself.
    childLoggerFactory: (parent) => parent,
    bodyLimit: server.body_limit_bytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Requests that arrive while closing are answered by our onRequest hook, in our error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Node's limits on slow clients, and how often it enforces them (./node-server.ts).
    serverFactory: (handler) => createNodeServer(handler, server),
    routerOptions: { ignoreTrailingSlash: true },
    // X-Request-Id: the caller's if it is a sane token, else a fresh UUID; echoed on the answer
    // and in the request's log lines.
    requestIdHeader: false,
    genReqId: requestId,
    // req.ip is X-Forwarded-For's client only when the peer is one of these proxies.
    ...(server.trust_proxy.length > 0 ? { trustProxy: [...server.trust_proxy] } : {}),
  })

  // Load shedding by event-loop lag (off by default): @fastify/under-pressure samples the loop's
  // delay once a second off the request path; its per-request hook is two comparisons (37 ns,
  // perf/http/limits.ts). Loaded and registered only when on: off adds no hook, no sampling.
  if (server.max_event_loop_delay_ms > 0) {
    const max = server.max_event_loop_delay_ms
    const { default: underPressure } = await import('@fastify/under-pressure')
    await app.register(underPressure, {
      maxEventLoopDelay: max,
      retryAfter: 1,
      // Called only under pressure. Probes and /metrics pass; the rest get the catalogue's 503
      // through the error handler (a rejection is how the plugin takes an error from here).
      pressureHandler: (req, reply, _type, value) => {
        if (LAG_EXEMPT.has(routePath(req))) return undefined
        reply.header('retry-after', '1')
        const lag = value === undefined || !Number.isFinite(value) ? 'past a whole sample interval' : `${Math.round(value)} ms`
        return Promise.reject(new TsfmError('TSFM_OVERLOADED', `the event loop lags ${lag} (server.max_event_loop_delay_ms = ${max}); retry shortly`))
      },
    })
  }

  // Only JSON bodies: fastify also parses text/plain by default, which must be a 415 here.
  app.removeContentTypeParser('text/plain')
  // JSON with fastify's prototype-poisoning rules, minus the regex scan of clean texts (./json-body.ts).
  const fastifyJson = app.getDefaultJsonParser('error', 'error') as StringBodyParser
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(fastifyJson))

  const defaults = defaultsFromConfig(config)
  const tokens = server.api_token === null ? server.api_tokens : [server.api_token, ...server.api_tokens]
  const auth = tokens.length === 0 ? null : new TokenAuth(tokens)
  const metricsAuth = server.metrics_token === null ? null : new TokenAuth(server.metrics_token)
  const limiter = server.rate_limit.enabled ? new RateLimiter(server.rate_limit, clock) : null
  const metrics = runner.metrics
  const admission = new Admission(server.admission_limit)
  const lifecycle = new ServerLifecycle(app.server, admission, () => app.close())
  app.decorate('lifecycle', lifecycle)

  app.addHook('onRequest', (req, reply, done) => {
    const path = routePath(req)
    if (HEALTH.has(path)) return done()
    if (lifecycle.phase === 'closing') {
      return sendError(reply, new TsfmError('TSFM_SHUTTING_DOWN', 'the daemon is shutting down; retry on another instance'))
    }
    if (admission.full) {
      reply.header('retry-after', '1')
      return sendError(reply, new TsfmError('TSFM_OVERLOADED', `more than ${admission.limit} requests in progress; retry shortly`))
    }
    // Counted from here until its response closes, whatever happens next (./admission.ts).
    admission.admit(req.raw, reply.raw)
    // The rate-limit bucket: the client's token when tokens are in use (each its own), else its
    // address (X-Forwarded-For's client behind a trusted proxy: server.trust_proxy).
    let identity = `ip:${req.ip}`
    const metricsRoute = path === '/metrics'
    if (auth !== null || (metricsRoute && metricsAuth !== null)) {
      const token = TokenAuth.presented(req.headers.authorization, req.headers['x-api-key'])
      const index = auth === null ? -1 : auth.match(token)
      // /metrics also opens with the metrics token, which opens nothing else.
      const ok = index >= 0 || (metricsRoute && metricsAuth !== null && metricsAuth.check(token))
      if (!ok) {
        reply.header('www-authenticate', 'Bearer')
        return sendError(reply, new TsfmError('TSFM_UNAUTHORIZED', token === null ? 'missing bearer token or X-API-Key' : 'invalid bearer token or X-API-Key'))
      }
      if (index >= 0) identity = `token:${index}`
    }
    if (limiter !== null && path !== '/metrics') {
      const v = limiter.take(identity)
      if (!v.ok) {
        reply.header('retry-after', String(v.retryAfterS))
        return sendError(reply, new TsfmError('TSFM_RATE_LIMITED', `rate limit exceeded; retry after ${v.retryAfterS} s`))
      }
    }
    done()
  })

  // While closing, answers end their keep-alive connection; otherwise a client's idle keep-alive
  // socket would hold `server.close()` open until keepAliveTimeout (seen in the drain test).
  app.addHook('preClose', (done) => {
    lifecycle.phase = 'closing'
    app.server.closeIdleConnections()
    done()
  })
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id)
    if (lifecycle.phase === 'closing') reply.header('connection', 'close')
    done(null, payload)
  })

  app.addHook('onResponse', (req, reply, done) => {
    const path = routePath(req)
    if (reply.statusCode !== 200 && path.startsWith('/tsfm/')) metrics.request(reply.statusCode, 'none')
    metrics.http(ROUTES[path] === undefined ? 'other' : path, reply.statusCode, reply.elapsedTime / 1000)
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ req_id: req.id, method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request')
    }
    done()
  })

  app.setErrorHandler((err: FastifyError | TsfmError, req, reply) => {
    const e = toTsfmError(err)
    if (e.status >= 500 && e.code === 'TSFM_INTERNAL') logger.error({ err, req_id: req.id, url: req.url }, 'unexpected error answering a request')
    return sendError(reply, e)
  })

  app.setNotFoundHandler((req, reply) => {
    const allowed = ROUTES[routePath(req)]
    if (allowed !== undefined) {
      reply.header('allow', allowed)
      return sendError(reply, new TsfmError('TSFM_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${routePath(req)}; use ${allowed}`))
    }
    return sendError(reply, new TsfmError('TSFM_NOT_FOUND', `no route ${req.method} ${routePath(req)}`))
  })

  const errorSchemas = { 400: errorResponseSchema, 401: errorResponseSchema, 413: errorResponseSchema, 415: errorResponseSchema, 429: errorResponseSchema, 503: errorResponseSchema }

  // Both handlers answer through their route's per-request object and return nothing; what they
  // throw (a 400) goes to the error handler.
  const forecast = new ForecastRoute(runner, admission, new ReplyBatch(), defaults, logger)
  app.post('/tsfm/forecast', { schema: { response: { 200: forecastResponseSchema, ...errorSchemas } } }, (req, reply): void => forecast.handle(req.body, reply))

  const cycle = new CycleRoute(runner, admission, defaults, cycleLimitsFromConfig(config), lifecycle, logger)
  app.post('/tsfm/cycle', { schema: { response: { 200: cycleResponseSchema, ...errorSchemas } } }, (req, reply): void => cycle.handle(req, reply))

  // Resolved outcomes for the online conformal calibration: handled synchronously (~3 µs an
  // outcome, so a full batch of 2 000 holds the main thread ~6 ms); admission, auth and rate
  // limits apply as to every /tsfm route.
  app.post('/tsfm/outcomes', { schema: { response: { 200: outcomesResponseSchema, ...errorSchemas, 409: errorResponseSchema } } }, (req) => runner.observe(req.body))

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render()
    return reply.type(metrics.contentType).send(text)
  })

  app.get('/tsfm/state', () => runner.state())

  // Built once: the document depends on nothing that changes while the daemon runs.
  const openapi = JSON.stringify(openApiDocument())
  app.get('/openapi.json', (_req, reply) => reply.type('application/json').send(openapi))

  app.get('/health/live', (_req, reply) => reply.send({ status: 'ok' }))
  app.get('/health/startup', (_req, reply) => reply.send({ status: 'started' }))
  app.get('/health/ready', (_req, reply) => {
    // Draining: still serving, but load balancers should stop sending (SPEC §2.3).
    if (lifecycle.phase !== 'serving') return reply.code(503).send({ status: 'draining' })
    if (runner.ready) return reply.send({ status: 'ready' })
    return reply.code(503).send({ status: 'not_ready' })
  })

  await app.ready()
  return app as unknown as TsfmServer
}

function routePath(req: FastifyRequest): string {
  const url = req.url
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

/** The fastify instance, with the graceful stop the daemon drives. */
export type TsfmServer = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger> & { readonly lifecycle: ServerLifecycle }

/** A caller's X-Request-Id is kept if it is 1–128 visible ASCII characters; otherwise a UUID. */
function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  return validRequestId(req.headers['x-request-id']) ?? randomUUID()
}
