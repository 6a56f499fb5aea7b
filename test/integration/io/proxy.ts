import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'

/**
 * A pass-through HTTP proxy on 127.0.0.1 port 0 in front of the simulator, for what the
 * simulator does not do itself: record request headers, and rewrite forecast answers
 * (e.g. shuffle the order of `forecasts`).
 */
export interface Proxy {
  readonly url: string
  readonly headers: IncomingHttpHeaders[]
  readonly bodies: string[]
  /** The answers it sent back (after the rewrite). */
  readonly answers: string[]
  close(): Promise<void>
}

export async function startProxy(target: string, rewrite: (path: string, body: string) => string = (_, b) => b): Promise<Proxy> {
  const headers: IncomingHttpHeaders[] = []
  const bodies: string[] = []
  const answers: string[] = []
  const server: Server = createServer((req, res) => {
    headers.push(req.headers)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      bodies.push(body)
      const fwd: Record<string, string> = {}
      if (typeof req.headers['content-type'] === 'string') fwd['content-type'] = req.headers['content-type']
      request(target + req.url, { method: req.method as 'GET' | 'POST', headers: fwd, ...(req.method === 'POST' ? { body } : {}) })
        .then(async (up) => {
          const text = rewrite(req.url ?? '', await up.body.text())
          answers.push(text)
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') })
          res.end(text)
        })
        .catch(() => res.destroy())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    headers,
    bodies,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A deterministic shuffle (reverse, then rotate by 7) of a forecast answer's `forecasts`. */
export function shuffleForecasts(_path: string, body: string): string {
  const data = JSON.parse(body) as { forecasts?: unknown[] }
  if (!Array.isArray(data.forecasts)) return body
  const f = data.forecasts.reverse()
  data.forecasts = [...f.slice(7), ...f.slice(0, 7)]
  return JSON.stringify(data)
}
