/**
 * The HTTP server choice (HTTP issue: "fastify unless a measurement shows node:http is materially
 * faster for our payloads"), and the daemon's throughput targets (benchmarks issue: cache hits
 * ≥ 5 000 req/s, fallbacks ≥ 3 000 req/s on this 2-core machine with the load generator on it).
 *
 * One process holds the runner(s) and both servers — our fastify daemon (`buildServer`, the
 * daemon's exact setup) and the minimal `node:http` server of ./node-http-server.ts — on
 * 127.0.0.1 port 0, in front of the *same* runner, so the runner's work is identical. A separate
 * process (./load-client.ts, undici Pool, closed loop) drives one server at a time; runs alternate
 * fastify / node:http for `--rounds` rounds and the median round is reported.
 *
 * Scenarios, each with 64 distinct 288-point bodies (~13 KB, with `y_ts`; ./forecast-bodies.ts):
 *   hit       fresh cache hits: every body was answered once from the upstream (the simulator)
 *             beforehand, so each request is HTTP + JSON.parse + validation + key + lookup +
 *             answer + serialization;
 *   fallback  the upstream is down (connection refused) and the breaker open: each request is
 *             answered from a freshly computed EWMA baseline (`circuit_breaker_open` or, once the
 *             mode machine trips, `degradation_baseline_only` — never cached).
 *
 * Reported per run: req/s, client-observed latency p50/p99 (µs), and the server side's cost per
 * request — main-thread busy time (event-loop utilisation × wall time / requests) and process CPU
 * (all threads) per request.
 *
 *   node dist/perf/http/server-choice.js [--seconds 5] [--rounds 3] [--connections 16]
 *        [--concurrency 16] [--scenario hit|fallback] [--only fastify|node] [--no-save]
 */
import { fork } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { resolveConfig } from '../../src/config/index.js'
import type { TsfmConfig } from '../../src/config/types.js'
import { buildServer } from '../../src/http/server.js'
import { createLogger } from '../../src/log.js'
import { createRunner, type Runner } from '../../src/runner.js'
import { startSimulator } from '../../src/sim/index.js'
import { forecastBody, forecastBodyText } from './forecast-bodies.js'
import type { LoadResult, LoadSpec } from './load-client.js'
import { startNodeHttpServer } from './node-http-server.js'
import { saveResults } from './results.js'

type ServerName = 'fastify' | 'node:http'
type Scenario = 'hit' | 'fallback'

interface Args {
  seconds: number
  rounds: number
  connections: number
  concurrency: number
  scenarios: Scenario[]
  servers: ServerName[]
  save: boolean
}

interface RunRow {
  readonly scenario: Scenario
  readonly server: ServerName
  readonly round: number
  readonly rps: number
  readonly p50_us: number
  readonly p99_us: number
  readonly max_us: number
  readonly main_us_per_req: number
  readonly cpu_us_per_req: number
  readonly requests: number
  readonly non200: number
  readonly errors: number
}

const MARKETS = 64

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const num = (name: string, d: number): number => {
    const v = value(name)
    return v === undefined ? d : Number(v)
  }
  const scenario = value('--scenario')
  const only = value('--only')
  const concurrency = num('--concurrency', 16)
  return {
    seconds: num('--seconds', 5),
    rounds: num('--rounds', 3),
    concurrency,
    connections: num('--connections', concurrency),
    scenarios: scenario === undefined ? ['hit', 'fallback'] : [scenario as Scenario],
    servers: only === undefined ? ['fastify', 'node:http'] : [only === 'node' ? 'node:http' : 'fastify'],
    save: !argv.includes('--no-save'),
  }
}

/** A port on 127.0.0.1 with nobody listening: every connection to it is refused. */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

function daemonConfig(baseUrl: string): TsfmConfig {
  return resolveConfig({
    tsfm: {
      adapter: { base_url: baseUrl, health_interval_s: 0 },
      server: { host: '127.0.0.1', port: 0, rate_limit: { enabled: false } },
    },
  }).config
}

/** The daemon logs at `info` (nothing per request); its lines go nowhere here. */
const devNull = new Writable({ write: (_c, _e, done) => done() })

interface Setup {
  readonly runner: Runner
  readonly urls: Record<ServerName, string>
  close(): Promise<void>
}

async function setup(scenario: Scenario, log: (s: string) => void): Promise<Setup> {
  const sim = scenario === 'hit' ? await startSimulator({ port: 0, latencyFixedMs: 1, latencyPerSeriesMs: 0 }) : null
  const baseUrl = sim !== null ? sim.url : `http://127.0.0.1:${await closedPort()}`
  const config = daemonConfig(baseUrl)
  const logger = createLogger('info', devNull)
  const runner = await createRunner({ effectiveConfig: config, logger })
  if (scenario === 'hit') {
    const answers = await Promise.all(Array.from({ length: MARKETS }, (_, i) => runner.forecast(forecastBody(i))))
    const fromUpstream = answers.filter((a) => a.meta.runtime === 'tollama').length
    log(`  cache filled: ${fromUpstream}/${MARKETS} answers from the upstream`)
  } else {
    // Five consecutive connection failures (after their retries) open the breaker.
    for (let i = 0; runner.state().breaker.state !== 'open' && i < 50; i++) await runner.forecast(forecastBody(i))
    log(`  breaker ${runner.state().breaker.state}, mode ${runner.state().mode.mode}`)
  }
  const fastify = await buildServer({ runner, config, logger })
  await fastify.listen({ host: '127.0.0.1', port: 0 })
  const addr = fastify.server.address()
  const fastifyUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  const node = await startNodeHttpServer(runner, config)
  return {
    runner,
    urls: { fastify: fastifyUrl, 'node:http': node.url },
    async close() {
      await node.close()
      await fastify.close()
      await runner.close()
      await sim?.close()
    },
  }
}

function runClient(spec: LoadSpec): Promise<LoadResult> {
  const file = fileURLToPath(new URL('./load-client.js', import.meta.url))
  const child = fork(file, ['--load-client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as LoadResult))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited with ${String(code)}`))
    })
    child.send(spec)
  })
}

async function measure(scenario: Scenario, server: ServerName, round: number, s: Setup, args: Args, bodies: string[]): Promise<RunRow> {
  const elu0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  const r = await runClient({
    url: s.urls[server],
    path: '/tsfm/forecast',
    bodies,
    connections: args.connections,
    concurrency: args.concurrency,
    seconds: args.seconds,
    warmupRequests: 5_000,
  })
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = process.cpuUsage(cpu0)
  // The ELU and CPU deltas include the client's warm-up requests and its start-up (idle here).
  const served = r.requests + 5_000
  const sample = JSON.parse(r.sample) as { meta?: { cache_hit: boolean; fallback_reason: string | null } }
  if (r.non200 > 0 || r.errors > 0 || sample.meta === undefined) {
    throw new Error(`${server} ${scenario}: ${r.non200} non-200, ${r.errors} errors; sample ${r.sample.slice(0, 200)}`)
  }
  if (scenario === 'hit' && !sample.meta.cache_hit) throw new Error(`${server}: expected cache hits, got ${r.sample.slice(0, 300)}`)
  if (scenario === 'fallback' && sample.meta.fallback_reason === null) throw new Error(`${server}: expected fallbacks`)
  return {
    scenario,
    server,
    round,
    rps: r.rps,
    p50_us: r.p50_us,
    p99_us: r.p99_us,
    max_us: r.max_us,
    main_us_per_req: round1((elu.active * 1000) / served),
    cpu_us_per_req: round1((cpu.user + cpu.system) / served),
    requests: r.requests,
    non200: r.non200,
    errors: r.errors,
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}

function median(rows: readonly RunRow[], pick: (r: RunRow) => number): number {
  const v = rows.map(pick).sort((a, b) => a - b)
  return v[(v.length - 1) >> 1] as number
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const log = (s: string): void => console.log(s)
  const bodies = Array.from({ length: MARKETS }, (_, i) => forecastBodyText(i))
  log(`# server choice: ${args.rounds} rounds × ${args.seconds} s, ${args.connections} connections, ${args.concurrency} in flight, ${bodies[0]?.length} B bodies`)
  const rows: RunRow[] = []
  for (const scenario of args.scenarios) {
    log(`\n## ${scenario}`)
    const s = await setup(scenario, log)
    try {
      for (let round = 1; round <= args.rounds; round++) {
        for (const server of round % 2 === 1 ? args.servers : [...args.servers].reverse()) {
          const row = await measure(scenario, server, round, s, args, bodies)
          rows.push(row)
          log(
            `  ${server.padEnd(9)} round ${round}: ${String(row.rps).padStart(6)} req/s  p50 ${row.p50_us} µs  p99 ${row.p99_us} µs  ` +
              `main thread ${row.main_us_per_req} µs/req  cpu ${row.cpu_us_per_req} µs/req`,
          )
        }
      }
      const st = s.runner.state()
      log(`  fallbacks in the last 5 min: ${JSON.stringify(st.fallbacks_last_5m)}`)
    } finally {
      await s.close()
    }
  }

  const summary: Record<string, unknown>[] = []
  log('\n## medians')
  for (const scenario of args.scenarios) {
    for (const server of args.servers) {
      const mine = rows.filter((r) => r.scenario === scenario && r.server === server)
      const m = {
        scenario,
        server,
        rps: median(mine, (r) => r.rps),
        p50_us: median(mine, (r) => r.p50_us),
        p99_us: median(mine, (r) => r.p99_us),
        main_us_per_req: median(mine, (r) => r.main_us_per_req),
        cpu_us_per_req: median(mine, (r) => r.cpu_us_per_req),
      }
      summary.push(m)
      log(`  ${scenario.padEnd(8)} ${server.padEnd(9)} ${String(m.rps).padStart(6)} req/s  p50 ${m.p50_us} µs  p99 ${m.p99_us} µs  main ${m.main_us_per_req} µs/req`)
    }
    const f = summary.find((m) => m.scenario === scenario && m.server === 'fastify')
    const n = summary.find((m) => m.scenario === scenario && m.server === 'node:http')
    if (f !== undefined && n !== undefined) {
      log(`  ${scenario}: node:http / fastify throughput = ${((n.rps as number) / (f.rps as number)).toFixed(3)}`)
    }
  }
  if (args.save) {
    const file = saveResults('http.json', 'server_choice', {
      seconds: args.seconds,
      rounds: args.rounds,
      connections: args.connections,
      concurrency: args.concurrency,
      body_bytes: bodies[0]?.length,
      medians: summary,
      runs: rows,
    })
    log(`\nsaved ${file}`)
  }
}

await main()
