import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import fastJson from 'fast-json-stringify'
import type { TsfmConfig } from '../../src/config/types.js'
import { TsfmError } from '../../src/errors.js'
import { forecastResponseSchema } from '../../src/http/schemas.js'
import { defaultsFromConfig, validateForecastRequest } from '../../src/request/validate.js'
import type { ForecastResponse } from '../../src/response.js'
import type { Runner } from '../../src/runner.js'

/**
 * The alternative to fastify measured by perf/http/server-choice.ts: the least a `node:http`
 * server must do to answer `POST /tsfm/forecast` correctly — method and path check, JSON
 * content type (415), body limit (413), JSON.parse (400), the same validation, the same runner
 * call, the same compiled serializer (fast-json-stringify from our response schema) and the same
 * end-of-turn batching of answers, so the comparison isolates what the framework costs. Everything fastify adds on top (hooks, admission,
 * auth, rate limits, prototype-poisoning scan, 405s, request ids, child loggers, graceful close)
 * is left out: this is the *lower bound* of a hand-written server, not a replacement for ours.
 */

export interface NodeHttpServer {
  readonly url: string
  close(): Promise<void>
}

export function startNodeHttpServer(runner: Runner, config: TsfmConfig): Promise<NodeHttpServer> {
  const defaults = defaultsFromConfig(config)
  const limit = config.server.body_limit_bytes
  const serialize = fastJson(forecastResponseSchema)

  const sendError = (res: ServerResponse, e: TsfmError): void => {
    const text = JSON.stringify(e.toBody())
    res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
  const writeAnswer = (res: ServerResponse, text: string): void => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
  // The same end-of-turn batching of answers as our daemon (src/http/reply-batch.ts), so the
  // comparison is between the frameworks, not between write strategies.
  let pending: ServerResponse[] = []
  let texts: string[] = []
  const flush = (): void => {
    const rs = pending
    const ts = texts
    pending = []
    texts = []
    for (let i = 0; i < rs.length; i++) writeAnswer(rs[i] as ServerResponse, ts[i] as string)
  }
  const sendAnswer = (res: ServerResponse, answer: ForecastResponse): void => {
    if (pending.length === 0) setImmediate(flush)
    pending.push(res)
    texts.push(serialize(answer))
  }

  const onBody = (res: ServerResponse, text: string): void => {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return sendError(res, new TsfmError('TSFM_INVALID_JSON', 'the request body is not valid JSON'))
    }
    const v = validateForecastRequest(body, defaults)
    if (!v.ok) return sendError(res, v.error)
    runner.forecastValidated(v.value).then(
      (answer) => sendAnswer(res, answer),
      (e: unknown) => sendError(res, e instanceof TsfmError ? e : new TsfmError('TSFM_INTERNAL', 'internal error')),
    )
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST' || req.url !== '/tsfm/forecast') {
      req.resume()
      return sendError(res, new TsfmError('TSFM_NOT_FOUND', `no route ${String(req.method)} ${String(req.url)}`))
    }
    const type = req.headers['content-type']
    if (type === undefined || !type.startsWith('application/json')) {
      req.resume()
      return sendError(res, new TsfmError('TSFM_UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json'))
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        sendError(res, new TsfmError('TSFM_BODY_TOO_LARGE', 'the request body is larger than the limit (server.body_limit_bytes)'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (size <= limit) onBody(res, chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8'))
    })
  }

  const server = createServer({ keepAliveTimeout: 72_000 }, onRequest)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
