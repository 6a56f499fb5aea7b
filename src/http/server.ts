import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify'
import { systemClock, type Clock } from '../clock/clock.js'
import type { TsfmConfig } from '../config/types.js'
import { TsfmError } from '../errors.js'
import type { Logger } from '../log.js'
import { validateCycleRequest, cycleLimitsFromConfig } from '../request/cycle.js'
import { defaultsFromConfig, validateForecastRequest } from '../request/validate.js'
import type { ForecastResponse } from '../response.js'
import type { Runner } from '../runner.js'
import type { CycleItem } from '../supervisor/cycle.js'
import { TokenAuth } from './auth.js'
import { sendError, toTsfmError } from './error-reply.js'
import { jsonBodyParser, type StringBodyParser } from './json-body.js'
import { RateLimiter } from './rate-limit.js'
import { ForecastJson, type Serializer } from './forecast-json.js'
import { ReplyBatch } from './reply-batch.js'
import { cycleResponseSchema, errorResponseSchema, forecastHeadSchema, forecastMetaSchema, forecastResponseSchema } from './schemas.js'

export { toTsfmError } from './error-reply.js'

export interface ServerOptions {
  readonly runner: Runner
  readonly config: TsfmConfig
  readonly logger: Logger
  readonly clock?: Clock
}

const JSON_UTF8 = 'application/json; charset=utf-8'

/** Routes exempt from auth, rate limits and admission control (SPEC §2.3). */
const HEALTH = new Set(['/health/live', '/health/ready', '/health/startup'])
/** Known routes and their methods, for 405 answers. */
const ROUTES: Readonly<Record<string, string>> = {
  '/tsfm/forecast': 'POST',
  '/tsfm/cycle': 'POST',
  '/tsfm/state': 'GET',
  '/metrics': 'GET',
  '/health/live': 'GET',
  '/health/ready': 'GET',
  '/health/startup': 'GET',
}

/**
 * The HTTP daemon (SPEC §2): fastify for body limits, content-type handling, prototype-poisoning
 * protection, compiled response serialisation and graceful close. Protection runs in one
 * `onRequest` hook, cheapest first: admission (503), auth (401), rate limit (429) — before the
 * body is even read. Every error answer carries FastAPI's `detail` and our `error` object, and
 * never a stack trace, an internal URL or upstream error text.
 */
export async function buildServer(opts: ServerOptions) {
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
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 72_000,
    routerOptions: { ignoreTrailingSlash: true },
  })

  // Only JSON bodies: fastify also parses text/plain by default, which must be a 415 here.
  app.removeContentTypeParser('text/plain')
  // JSON with fastify's prototype-poisoning rules, minus the regex scan of clean texts (./json-body.ts).
  const fastifyJson = app.getDefaultJsonParser('error', 'error') as StringBodyParser
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(fastifyJson))

  const defaults = defaultsFromConfig(config)
  const cycleLimits = cycleLimitsFromConfig(config)
  const auth = server.api_token === null ? null : new TokenAuth(server.api_token)
  const limiter = server.rate_limit.enabled ? new RateLimiter(server.rate_limit, clock) : null
  const metrics = runner.metrics
  let inBuilding = 0
  const admissionLimit = server.admission_limit
  // Declared, so fastify sets it in the Request constructor and every request keeps one shape.
  app.decorateRequest('counted', false)

  app.addHook('onRequest', (req, reply, done) => {
    const path = routePath(req)
    if (HEALTH.has(path)) return done()
    if (inBuilding >= admissionLimit) {
      reply.header('retry-after', '1')
      return sendError(reply, new TsfmError('TSFM_OVERLOADED', `more than ${admissionLimit} requests in progress; retry shortly`))
    }
    inBuilding++
    req.counted = true
    let identity = `ip:${req.ip}`
    if (auth !== null) {
      const token = TokenAuth.presented(req.headers.authorization, req.headers['x-api-key'])
      if (!auth.check(token)) {
        reply.header('www-authenticate', 'Bearer')
        return sendError(reply, new TsfmError('TSFM_UNAUTHORIZED', token === null ? 'missing bearer token or X-API-Key' : 'invalid bearer token or X-API-Key'))
      }
      identity = 'token'
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
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    app.server.closeIdleConnections()
    done()
  })
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  app.addHook('onResponse', (req, reply, done) => {
    if (req.counted) inBuilding--
    if (reply.statusCode !== 200 && routePath(req).startsWith('/tsfm/')) metrics.request(reply.statusCode, 'none')
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request')
    }
    done()
  })

  app.setErrorHandler((err: FastifyError | TsfmError, req, reply) => {
    const e = toTsfmError(err)
    if (e.status >= 500 && e.code === 'TSFM_INTERNAL') logger.error({ err, reqId: req.id, url: req.url }, 'unexpected error answering a request')
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

  // The answer is written by ForecastJson (cache hits reuse their body's text), compiled on the
  // first request by fastify's serializer compiler from the two halves of the 200 schema, and
  // sent with the rest of the turn's answers (./reply-batch.ts). The handler returns nothing:
  // it sends the answer itself; what it throws goes to the error handler.
  let forecastJson: ForecastJson | null = null
  const answers = new ReplyBatch()
  app.post('/tsfm/forecast', { schema: { response: { 200: forecastResponseSchema, ...errorSchemas } } }, (req, reply): void => {
    const v = validateForecastRequest(req.body, defaults)
    if (!v.ok) throw v.error
    const json = (forecastJson ??= new ForecastJson(
      reply.compileSerializationSchema(forecastHeadSchema, '200') as Serializer,
      reply.compileSerializationSchema(forecastMetaSchema, '200') as Serializer,
    ))
    // A string with a JSON content type is sent as it is (an error answer sets its own type).
    reply.header('content-type', JSON_UTF8)
    runner.forecastValidated(v.value).then(
      (answer) => answers.send(reply, json.stringify(answer)),
      (e: unknown) => reply.send(e),
    )
  })

  app.post('/tsfm/cycle', { schema: { response: { 200: cycleResponseSchema, ...errorSchemas } } }, async (req, reply) => {
    const v = validateCycleRequest(req.body, defaults, cycleLimits)
    if (!v.ok) throw v.error
    const { requests, budget_ms } = v.value
    if (wantsNdjson(req)) return streamCycle(runner, requests, budget_ms, reply, () => {
      if (req.counted) {
        req.counted = false
        inBuilding--
      }
    })
    const run = runner.cycleValidated(requests, { budgetMs: budget_ms, order: 'priority' })
    const results = new Array<ForecastResponse>(requests.length)
    for await (const item of run) results[item.index] = item.response
    return { results, summary: run.summary }
  })

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render()
    return reply.type(metrics.contentType).send(text)
  })

  app.get('/tsfm/state', () => runner.state())

  app.get('/health/live', (_req, reply) => reply.send({ status: 'ok' }))
  app.get('/health/startup', (_req, reply) => reply.send({ status: 'started' }))
  app.get('/health/ready', (_req, reply) => {
    if (runner.ready) return reply.send({ status: 'ready' })
    return reply.code(503).send({ status: 'not_ready' })
  })

  await app.ready()
  return app
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Counted against the admission limit (health probes are not). */
    counted: boolean
  }
}

function routePath(req: FastifyRequest): string {
  const url = req.url
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

function wantsNdjson(req: FastifyRequest): boolean {
  const accept = req.headers.accept
  return typeof accept === 'string' && accept.includes('application/x-ndjson')
}

/** `Accept: application/x-ndjson`: one line per market as it completes, then a summary line. */
async function streamCycle(
  runner: Runner,
  requests: Parameters<Runner['cycleValidated']>[0],
  budgetMs: number,
  reply: FastifyReply,
  release: () => void,
): Promise<void> {
  reply.hijack()
  const raw = reply.raw
  raw.on('close', release)
  raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
  const run = runner.cycleValidated(requests, { budgetMs, order: 'completion' })
  try {
    for await (const item of run) {
      if (!raw.destroyed) raw.write(resultLine(item))
    }
    if (!raw.destroyed) raw.end(`${JSON.stringify({ type: 'summary', summary: run.summary })}\n`)
  } catch (e) {
    // The runner closed mid-cycle: end the stream with an error line rather than hang.
    if (!raw.destroyed) raw.end(`${JSON.stringify({ type: 'error', error: toTsfmError(e as Error).toBody().error })}\n`)
  }
}

function resultLine(item: CycleItem): string {
  return `{"type":"result","index":${item.index},"result":${JSON.stringify(item.response)}}\n`
}

export type TsfmServer = Awaited<ReturnType<typeof buildServer>>
