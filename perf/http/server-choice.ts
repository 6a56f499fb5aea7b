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
 * `--baseline DIR` adds a third server: the fastify daemon of another build (the `dist` folder
 * of another checkout, e.g. the previous commit), with its own runner, measured in the same
 * rounds — how the hot-path changes were measured before/after side by side.
 *
 *   node dist/perf/http/server-choice.js [--seconds 5] [--rounds 3] [--connections 16]
 *        [--concurrency 16] [--scenario hit|fallback] [--only fastify|node] [--baseline DIR]
 *        [--no-save]
 */
import { fork } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
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
import { closedPort } from '../load/ports.js'

type ServerName = 'fastify' | 'node:http' | 'fastify (baseline)'
type Scenario = 'hit' | 'fallback'

interface Args {
  seconds: number
  rounds: number
  connections: number
  concurrency: number
  scenarios: Scenario[]
  servers: ServerName[]
  baseline: string | null
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
  const baseline = value('--baseline')
  const concurrency = num('--concurrency', 16)
  const servers: ServerName[] = only === undefined ? ['fastify', 'node:http'] : [only === 'node' ? 'node:http' : 'fastify']
  if (baseline !== undefined) servers.push('fastify (baseline)')
  return {
    seconds: num('--seconds', 5),
    rounds: num('--rounds', 3),
    concurrency,
    connections: num('--connections', concurrency),
    scenarios: scenario === undefined ? ['hit', 'fallback'] : [scenario as Scenario],
    servers,
    baseline: baseline === undefined ? null : resolve(baseline),
    save: !argv.includes('--no-save'),
  }
}

/** What a build provides to start a daemon: this one's modules, or another checkout's. */
interface Build {
  readonly resolveConfig: typeof resolveConfig
  readonly createRunner: typeof createRunner
  readonly buildServer: typeof buildServer
  readonly createLogger: typeof createLogger
}

const thisBuild: Build = { resolveConfig, createRunner, buildServer, createLogger }

async function loadBuild(dist: string): Promise<Build> {
  const load = (rel: string): Promise<Record<string, unknown>> => import(pathToFileURL(resolve(dist, rel)).href) as Promise<Record<string, unknown>>
  const [config, runner, server, log] = await Promise.all([load('src/config/index.js'), load('src/runner.js'), load('src/http/server.js'), load('src/log.js')])
  return {
    resolveConfig: config['resolveConfig'] as Build['resolveConfig'],
    createRunner: runner['createRunner'] as Build['createRunner'],
    buildServer: server['buildServer'] as Build['buildServer'],
    createLogger: log['createLogger'] as Build['createLogger'],
  }
}

/** The daemon logs at `info` (nothing per request); its lines go nowhere here. */
const devNull = new Writable({ write: (_c, _e, done) => done() })

/** One runner (with its own upstream) behind its fastify server, as the daemon wires them. */
interface Daemon {
  readonly runner: Runner
  readonly config: TsfmConfig
  readonly url: string
  close(): Promise<void>
}

async function startDaemon(build: Build, scenario: Scenario, log: (s: string) => void): Promise<Daemon> {
  const sim = scenario === 'hit' ? await startSimulator({ port: 0, latencyFixedMs: 1, latencyPerSeriesMs: 0 }) : null
  const baseUrl = sim !== null ? sim.url : `http://127.0.0.1:${await closedPort()}`
  const config = build.resolveConfig({
    tsfm: {
      adapter: { base_url: baseUrl, health_interval_s: 0 },
      server: { host: '127.0.0.1', port: 0, rate_limit: { enabled: false } },
    },
  }).config
  const logger = build.createLogger('info', devNull)
  const runner = await build.createRunner({ effectiveConfig: config, logger })
  if (scenario === 'hit') {
    const answers = await Promise.all(Array.from({ length: MARKETS }, (_, i) => runner.forecast(forecastBody(i))))
    const fromUpstream = answers.filter((a) => a.meta.runtime === 'tollama').length
    log(`  cache filled: ${fromUpstream}/${MARKETS} answers from the upstream`)
  } else {
    // Five consecutive connection failures (after their retries) open the breaker.
    for (let i = 0; runner.state().breaker.state !== 'open' && i < 50; i++) await runner.forecast(forecastBody(i))
    log(`  breaker ${runner.state().breaker.state}, mode ${runner.state().mode.mode}`)
  }
  const server = await build.buildServer({ runner, config, logger })
  await server.listen({ host: '127.0.0.1', port: 0 })
  const addr = server.server.address()
  return {
    runner,
    config,
    url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`,
    async close() {
      await server.close()
      await runner.close()
      await sim?.close()
    },
  }
}

interface Setup {
  readonly runners: Runner[]
  readonly urls: Partial<Record<ServerName, string>>
  close(): Promise<void>
}

/** Our daemon, the node:http server on the same runner, and the baseline build's daemon if asked. */
async function setup(scenario: Scenario, args: Args, log: (s: string) => void): Promise<Setup> {
  const ours = await startDaemon(thisBuild, scenario, log)
  const node = await startNodeHttpServer(ours.runner, ours.config)
  const baseline = args.baseline === null ? null : await startDaemon(await loadBuild(args.baseline), scenario, (s) => log(`${s} (baseline)`))
  return {
    runners: baseline === null ? [ours.runner] : [ours.runner, baseline.runner],
    urls: { fastify: ours.url, 'node:http': node.url, ...(baseline === null ? {} : { 'fastify (baseline)': baseline.url }) },
    async close() {
      await node.close()
      await ours.close()
      await baseline?.close()
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
    url: s.urls[server] as string,
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

interface DaemonLatency {
  readonly answers: number
  readonly p50_le_ms: number
  readonly p99_le_ms: number
}

/**
 * The time answers spent inside the runner (arrival at the supervisor to answer, the daemon's
 * `tsfm_request_latency_ms` histogram, every runtime): the bucket bounds that hold 50 % and 99 %
 * of them — "p99 ≤ 1 ms inside the daemon" is read here. HTTP parsing, validation and writing
 * the answer are outside it; the client-observed latency above includes them and the queueing.
 */
async function answerLatency(runner: Runner): Promise<DaemonLatency> {
  const metric = runner.metrics.registry.getSingleMetric('tsfm_request_latency_ms')
  if (metric === undefined) return { answers: 0, p50_le_ms: Number.NaN, p99_le_ms: Number.NaN }
  const cumulative = new Map<number, number>()
  let total = 0
  // A histogram's values carry their series name (`_bucket`, `_sum`, `_count`).
  for (const v of (await metric.get()).values as { metricName?: string; labels: Record<string, string | number>; value: number }[]) {
    const le = v.labels['le']
    if (v.metricName === 'tsfm_request_latency_ms_bucket' && le !== undefined) {
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
      cumulative.set(bound, (cumulative.get(bound) ?? 0) + v.value)
    } else if (v.metricName === 'tsfm_request_latency_ms_count') {
      total += v.value
    }
  }
  const bounds = [...cumulative.keys()].sort((a, b) => a - b)
  const at = (q: number): number => bounds.find((b) => (cumulative.get(b) as number) >= q * total) ?? Number.NaN
  return { answers: total, p50_le_ms: at(0.5), p99_le_ms: at(0.99) }
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
  const daemonLatency: Partial<Record<Scenario, DaemonLatency>> = {}
  for (const scenario of args.scenarios) {
    log(`\n## ${scenario}`)
    const s = await setup(scenario, args, log)
    try {
      for (let round = 1; round <= args.rounds; round++) {
        for (const server of round % 2 === 1 ? args.servers : [...args.servers].reverse()) {
          const row = await measure(scenario, server, round, s, args, bodies)
          rows.push(row)
          log(
            `  ${server.padEnd(18)} round ${round}: ${String(row.rps).padStart(6)} req/s  p50 ${row.p50_us} µs  p99 ${row.p99_us} µs  ` +
              `main thread ${row.main_us_per_req} µs/req  cpu ${row.cpu_us_per_req} µs/req`,
          )
        }
      }
      for (const r of s.runners) {
        log(`  fallbacks in the last 5 min: ${JSON.stringify(r.state().fallbacks_last_5m)}`)
        const inside = await answerLatency(r)
        log(`  inside the daemon (tsfm_request_latency_ms, ${inside.answers} answers): p50 ≤ ${inside.p50_le_ms} ms, p99 ≤ ${inside.p99_le_ms} ms`)
        if (r === s.runners[0]) daemonLatency[scenario] = inside
      }
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
      log(
        `  ${scenario.padEnd(8)} ${server.padEnd(18)} ${String(m.rps).padStart(6)} req/s  p50 ${m.p50_us} µs  p99 ${m.p99_us} µs  ` +
          `main ${m.main_us_per_req} µs/req  cpu ${m.cpu_us_per_req} µs/req`,
      )
    }
    const f = summary.find((m) => m.scenario === scenario && m.server === 'fastify')
    const n = summary.find((m) => m.scenario === scenario && m.server === 'node:http')
    const b = summary.find((m) => m.scenario === scenario && m.server === 'fastify (baseline)')
    const ratios = (x: Record<string, unknown>, y: Record<string, unknown>): string =>
      `throughput ×${((x.rps as number) / (y.rps as number)).toFixed(3)}, server CPU per request ×${((x.cpu_us_per_req as number) / (y.cpu_us_per_req as number)).toFixed(3)}`
    if (f !== undefined && n !== undefined) log(`  ${scenario}: node:http against fastify: ${ratios(n, f)}`)
    if (f !== undefined && b !== undefined) log(`  ${scenario}: fastify against fastify (baseline): ${ratios(f, b)}`)
  }
  if (args.save) {
    const file = saveResults('http.json', 'server_choice', {
      seconds: args.seconds,
      rounds: args.rounds,
      connections: args.connections,
      concurrency: args.concurrency,
      body_bytes: bodies[0]?.length,
      medians: summary,
      inside_daemon: daemonLatency,
      runs: rows,
    })
    log(`\nsaved ${file}`)
  }
}

await main()
