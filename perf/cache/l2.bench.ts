/**
 * The shared cache, embedded: `runner.forecast(body)` through `createRunner` (real math pool and
 * I/O actor) for a 288-point body, in three situations, side by side:
 *
 *   L1 hit     the answer is in this runner's own cache
 *   L2 hit     not in L1 (a one-entry L1 that 512 markets take turns in), in Redis: one EVAL
 *              round trip to a redis-server on 127.0.0.1, the entry decoded, kept in L1, served
 *   miss       a market never seen: L2 lookup (a miss that takes the lease), the upstream (the
 *              simulator in-process, no added latency), post-processing, L1 + L2 write
 *
 * Each is measured as a sequential loop timing every call (p50/p99), as mitata's mean, and as
 * throughput with 64 requests in flight. Starts its own redis-server (`--save '' --appendonly
 * no`, 127.0.0.1, a free port) and stops it.
 *
 *   node dist/perf/cache/l2.bench.js [--calls 5000]
 */
import { spawn } from 'node:child_process'
import { bench, group, run, summary } from 'mitata'
import { silentLogger } from '../../src/log.js'
import { createRunner } from '../../src/runner.js'
import { startSimulator } from '../../src/sim/index.js'
import { forecastBody } from '../http/forecast-bodies.js'
import { accepts, closedPort } from '../load/ports.js'

const argv = process.argv.slice(2)
const callsArg = argv.indexOf('--calls')
const CALLS = callsArg >= 0 ? Number(argv[callsArg + 1]) : 5_000
const INFLIGHT = 64

function body(market: string): Record<string, unknown> {
  return { ...forecastBody(0), market_id: market }
}

async function timed(fn: (i: number) => Promise<unknown>, calls: number): Promise<{ p50_us: number; p99_us: number }> {
  for (let i = 0; i < 500; i++) await fn(i)
  const t = new Float64Array(calls)
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint()
    await fn(i)
    t[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  t.sort()
  return { p50_us: Math.round(t[Math.floor(calls * 0.5)] as number), p99_us: Math.round(t[Math.floor(calls * 0.99)] as number) }
}

async function throughput(fn: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  let done = 0
  let n = 0
  const end = performance.now() + ms
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (performance.now() < end) {
        await fn(n++)
        done++
      }
    }),
  )
  return Math.round(done / (ms / 1000))
}

async function main(): Promise<void> {
  const port = await closedPort()
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await new Promise((ok) => setTimeout(ok, 10))
  const sim = await startSimulator({ port: 0, latencyFixedMs: 0, latencyPerSeriesMs: 0 })
  const l2 = { url: `redis://127.0.0.1:${port}`, key_prefix: 'bench:' }
  const common = { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } }, perf: { math_threads: 1 } }
  const logger = silentLogger()
  const l1Runner = await createRunner({ config: { tsfm: { ...common, cache: { l2 } } }, logger, defaultMetrics: false })
  // One entry: 512 markets asked in turn always miss L1 and hit L2 (more markets than requests in
  // flight, so concurrent requests are not folded into one by single-flight).
  const l2Runner = await createRunner({ config: { tsfm: { ...common, cache: { max_entries: 1, l2 } } }, logger, defaultMetrics: false })
  await new Promise((ok) => setTimeout(ok, 500)) // both L2 clients connected and up
  const hitBody = body('bench-l1')
  const ring = Array.from({ length: 512 }, (_, i) => body(`bench-l2-${i}`))
  await l1Runner.forecast(hitBody)
  for (const b of ring) await l1Runner.forecast(b) // stored in L2 by the other runner
  let fresh = 0
  const cases: Record<string, (i: number) => Promise<unknown>> = {
    'L1 hit': () => l1Runner.forecast(hitBody),
    'L2 hit': (i) => l2Runner.forecast(ring[i & 511]),
    miss: () => l1Runner.forecast(body(`bench-miss-${fresh++}`)),
  }
  const results: Record<string, unknown> = {}
  for (const [name, fn] of Object.entries(cases)) {
    const lat = await timed(fn, name === 'miss' ? Math.min(CALLS, 2000) : CALLS)
    const rps = await throughput(fn, 2000)
    results[name] = { ...lat, req_per_s: rps }
    console.log(`${name.padEnd(7)} p50 ${lat.p50_us} µs  p99 ${lat.p99_us} µs  ${rps} req/s at ${INFLIGHT} in flight`)
  }
  const l2Hits = await l2Runner.metrics.registry.getSingleMetricAsString('tsfm_cache_l2_total')
  console.log(l2Hits.split('\n').filter((l) => !l.startsWith('#')).join('\n'))
  group('embedded runner.forecast, 288 points', () => {
    summary(() => {
      for (const [name, fn] of Object.entries(cases)) {
        let i = 0
        bench(name, () => fn(i++))
      }
    })
  })
  await run()
  await l1Runner.close()
  await l2Runner.close()
  await sim.close()
  redis.kill('SIGKILL')
}

await main()
