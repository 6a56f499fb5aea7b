import { request } from 'undici'
import { resolveConfig } from '../../src/config/index.js'
import type { ConfigInput, TsfmConfig } from '../../src/config/types.js'
import { buildServer, type TsfmServer } from '../../src/http/server.js'
import { silentLogger } from '../../src/log.js'
import { createRunner, type Runner } from '../../src/runner.js'
import { startSimulator } from '../../src/sim/index.js'
import type { SimOptions, Simulator } from '../../src/sim/index.js'

/** A runner + HTTP server on 127.0.0.1:0 in front of a simulator on 127.0.0.1:0. */
export interface TestDaemon {
  readonly sim: Simulator
  readonly runner: Runner
  readonly server: TsfmServer
  readonly url: string
  readonly config: TsfmConfig
  close(): Promise<void>
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k]
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && prev !== null && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

export async function startTestDaemon(
  opts: { sim?: SimOptions; config?: ConfigInput; defaultMetrics?: boolean; /** Share this simulator (not closed with the daemon). */ simulator?: Simulator } = {},
): Promise<TestDaemon> {
  const shared = opts.simulator
  const sim = shared ?? (await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0.1, ...opts.sim }))
  const base: ConfigInput = {
    tsfm: {
      adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } },
      server: { host: '127.0.0.1', port: 0 },
      perf: { math_threads: 1 },
    },
  }
  const config = resolveConfig(deepMerge(base as Record<string, unknown>, (opts.config ?? {}) as Record<string, unknown>) as ConfigInput).config
  const logger = silentLogger()
  const runner = await createRunner({ effectiveConfig: config, logger, defaultMetrics: opts.defaultMetrics ?? false })
  const server = await buildServer({ runner, config, logger })
  await server.listen({ host: '127.0.0.1', port: 0 })
  const addr = server.server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  return {
    sim,
    runner,
    server,
    url: `http://127.0.0.1:${port}`,
    config,
    async close() {
      // As the daemon stops: answer what was received, then close every connection (a client's
      // fresh keep-alive connection that never sent a request would hold server.close() open).
      await server.lifecycle.close()
      await runner.close()
      if (shared === undefined) await sim.close()
    },
  }
}

export interface JsonReply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: any
  readonly text: string
}

/** POST/GET with a JSON (or raw string) body; never throws on a status. */
export async function call(
  url: string,
  path: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<JsonReply> {
  const hasBody = init.body !== undefined || init.raw !== undefined
  const res = await request(url + path, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.raw ?? (init.body === undefined ? null : JSON.stringify(init.body)),
  })
  const text = await res.body.text()
  let body: unknown = null
  try {
    body = JSON.parse(text)
  } catch {
    body = null
  }
  return { status: res.statusCode, headers: res.headers, body, text }
}
