import { Agent, request } from 'undici'

/** A tiny client for the simulator tests: one keep-alive agent per test file, closed in afterAll. */

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export function newAgent(): Agent {
  return new Agent({ keepAliveTimeout: 10_000 })
}

export async function call(
  agent: Agent,
  url: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await request(url, {
    dispatcher: agent,
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

export function json(reply: Reply): unknown {
  return JSON.parse(reply.text)
}

/** A valid tollama forecast body: `n` series of `points` 5-minute points ending 00:00 + points·5 min. */
export function forecastBody(
  opts: { n?: number; horizon?: number; quantiles?: number[]; model?: string; stream?: boolean; points?: number; idPrefix?: string } = {},
): Record<string, unknown> {
  const n = opts.n ?? 1
  const points = opts.points ?? 4
  const series = []
  for (let i = 0; i < n; i++) {
    const timestamps = []
    const target = []
    for (let k = 0; k < points; k++) {
      timestamps.push(new Date(Date.UTC(2026, 1, 20, 0, 5 * k)).toISOString().replace('.000Z', 'Z'))
      target.push(0.1 * (k + 1) + i)
    }
    series.push({ id: `${opts.idPrefix ?? 'm-'}${i}`, freq: '5min', timestamps, target })
  }
  const body: Record<string, unknown> = {
    model: opts.model ?? 'mock',
    horizon: opts.horizon ?? 3,
    quantiles: opts.quantiles ?? [0.1, 0.5, 0.9],
    series,
  }
  if (opts.stream !== undefined) body.stream = opts.stream
  return body
}
