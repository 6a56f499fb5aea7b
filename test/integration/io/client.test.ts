import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../../src/clock/clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { TollamaClient } from '../../../src/io/thread/client.js'
import { ERROR_BODY_LIMIT } from '../../../src/io/thread/exchange.js'

/**
 * TollamaClient.forecast (undici dispatch + ForecastExchange) against a scripted server on
 * 127.0.0.1:0: the limits and the timeout paths the simulator's fault kinds do not reach.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void

let server: Server | null = null
let client: TollamaClient | null = null

afterEach(async () => {
  await client?.close()
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())))
  client = null
  server = null
})

async function start(handler: Handler, maxConnections = 10): Promise<TollamaClient> {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => handler(req, res))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  client = new TollamaClient({ ...DEFAULTS.adapter, base_url: `http://127.0.0.1:${port}`, max_connections: maxConnections }, systemClock)
  return client
}

const json = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(body)
}

describe('TollamaClient.forecast', () => {
  it('returns the answer text of a 2xx, also when it arrives in many chunks', async () => {
    const c = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"forecasts":[')
      for (let i = 0; i < 49; i++) res.write('0,')
      res.end('0]}')
    })
    const r = await c.forecast('/api/forecast', '{}', 1000, 1 << 20)
    expect(r).toEqual({ kind: 'ok', text: '{"forecasts":[' + '0,'.repeat(49) + '0]}' })
  })

  it('refuses an answer larger than maxBytes as upstream_invalid_payload', async () => {
    const c = await start((_req, res) => json(res, 200, `{"pad":"${'x'.repeat(5000)}"}`))
    const r = await c.forecast('/api/forecast', '{}', 1000, 4096)
    expect(r).toEqual({ kind: 'failed', failure: { reason: 'upstream_invalid_payload', retryable: false }, retryAfterMs: null })
  })

  it('judges a 503 by its status and Retry-After, whatever the size of its body', async () => {
    const c = await start((_req, res) => json(res, 503, 'x'.repeat(ERROR_BODY_LIMIT + 10), { 'retry-after': '2' }))
    const r = await c.forecast('/api/forecast', '{}', 1000, 1 << 20)
    expect(r).toEqual({ kind: 'failed', failure: { reason: 'upstream_http_503', retryable: true }, retryAfterMs: 2000 })
  })

  it('tells a model 404 from a route 404 by its detail', async () => {
    let detail = "model 'chronos9' is not installed"
    const c = await start((_req, res) => json(res, 404, JSON.stringify({ detail })))
    expect(await c.forecast('/api/forecast', '{}', 1000, 1 << 20)).toEqual({
      kind: 'failed',
      failure: { reason: 'upstream_model_missing', retryable: false },
      retryAfterMs: null,
    })
    detail = 'Not Found'
    expect(await c.forecast('/api/forecast', '{}', 1000, 1 << 20)).toEqual({ kind: 'route_missing' })
  })

  it('times out a request still queued behind a hung one, without waiting for it', async () => {
    // One connection: the second request waits in the Pool's queue, never reaching a socket.
    const c = await start(() => undefined, 1)
    let firstSettled = false
    const first = c.forecast('/api/forecast', '{}', 60_000, 1 << 20).then((r) => {
      firstSettled = true
      return r
    })
    const second = await c.forecast('/api/forecast', '{}', 100, 1 << 20)
    expect(second).toEqual({ kind: 'failed', failure: { reason: 'upstream_timeout', retryable: true }, retryAfterMs: null })
    expect(firstSettled).toBe(false)
    await c.close()
    expect(await first).toEqual({ kind: 'failed', failure: { reason: 'upstream_unavailable', retryable: true }, retryAfterMs: null })
  })

  it('answers upstream_unavailable for a refused connection and after close', async () => {
    const c = await start((_req, res) => json(res, 200, '{}'))
    server!.closeAllConnections()
    await new Promise<void>((resolve) => server!.close(() => resolve()))
    server = null
    expect(await c.forecast('/api/forecast', '{}', 1000, 1 << 20)).toEqual({
      kind: 'failed',
      failure: { reason: 'upstream_unavailable', retryable: true },
      retryAfterMs: null,
    })
    await c.close()
    expect((await c.forecast('/api/forecast', '{}', 1000, 1 << 20)).kind).toBe('failed')
  })
})

describe('TollamaClient.tags', () => {
  it('returns the installed model names as tollama gives them, tags included', async () => {
    let path = ''
    const c = await start((req, res) => {
      path = req.url ?? ''
      json(res, 200, JSON.stringify({ models: [{ name: 'chronos2:latest', size: 1 }, { name: 'mock' }, { model: 'nameless' }] }))
    })
    expect(await c.tags(1000)).toEqual(['chronos2:latest', 'mock'])
    expect(path).toBe('/api/tags')
  })

  it('answers null for anything but a 200 with a models list', async () => {
    const answers: [number, string][] = [
      [200, '<html>tollama</html>'],
      [200, '{"models":{"name":"mock"}}'],
      [200, '[]'],
      [404, '{"detail":"Not Found"}'],
      [500, '{"models":[{"name":"mock"}]}'],
    ]
    let i = 0
    const c = await start((_req, res) => {
      const [status, body] = answers[i++]!
      json(res, status, body)
    })
    for (let k = 0; k < answers.length; k++) expect(await c.tags(1000)).toBeNull()
  })

  it('answers null when tollama does not answer in time', async () => {
    const c = await start(() => undefined)
    expect(await c.tags(100)).toBeNull()
  })
})
