import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A tollama that answers every series of every `POST /api/forecast` with the same quantile
 * paths (in the space the runner sends: logits for the default transform) — for tests that need
 * exact upstream values, which the simulator (it echoes the last value) cannot give.
 */
export interface ScriptedTollama {
  readonly url: string
  /** Forecast requests received. */
  readonly requests: () => number
  close(): Promise<void>
}

export async function startScriptedTollama(quantiles: Readonly<Record<string, readonly number[]>>): Promise<ScriptedTollama> {
  let requests = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/forecast') {
        requests++
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { series: { id: string; freq: string }[]; horizon: number }
        const mean = quantiles['0.5'] ?? Object.values(quantiles)[0] ?? []
        const forecasts = body.series.map((s) => ({ id: s.id, freq: s.freq, start_timestamp: '2026-02-20T00:05:00Z', mean, quantiles }))
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ model: 'mock', forecasts, timing: { model_load_ms: 0, inference_ms: 1, total_ms: 1 }, usage: { horizon: body.horizon, series_count: body.series.length }, warnings: null }))
        return
      }
      if (req.url === '/api/tags') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ models: [{ name: 'mock' }] }))
        return
      }
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end('{"detail":"Not Found"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
