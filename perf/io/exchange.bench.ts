/**
 * One forecast POST from the I/O actor's client, as the thread sends it: `pool.request()` with
 * the answer read from its body stream (the client's previous way) against `pool.dispatch()`
 * with the ForecastExchange handler (src/io/thread/exchange.ts, what TollamaClient.forecast does now).
 * Both against the simulator answering at once, one request at a time over one keep-alive
 * connection, with a 288-point single-series tollama body. Reports wall time per round trip and
 * the CPU both ends spend on it (the simulator runs in this process too).
 *
 * Run: node dist/perf/io/exchange.bench.js
 */
import { bench, group, run, summary } from 'mitata'
import { Pool } from 'undici'
import { systemClock } from '../../src/clock/clock.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import { TollamaClient } from '../../src/io/thread/client.js'
import { startSimulator } from '../../src/sim/index.js'
import { RequestMix } from '../load/request-mix.js'
import { upstreamBody } from '../load/upstream-body.js'
import { saveIoResults } from './results.js'

const sim = await startSimulator({ port: 0, latencyFixedMs: 0, latencyPerSeriesMs: 0 })
const body = upstreamBody(new RequestMix({ prefix: 'exchange', uniqueKeys: 1 }).body(0).toString())
const HEADERS = { 'content-type': 'application/json', accept: 'application/json' }
const LIMIT = 1 << 20

const pool = new Pool(sim.url, { connections: 1, pipelining: 1 })
/** The previous client: request(), an AbortSignal per attempt, the body read with `for await`. */
async function viaRequest(): Promise<string> {
  const ac = new AbortController()
  const res = await pool.request({ method: 'POST', path: '/api/forecast', headers: HEADERS, body, signal: ac.signal })
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > LIMIT) throw new Error('too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size).toString('utf8')
}

const client = new TollamaClient({ ...DEFAULTS.adapter, base_url: sim.url, max_connections: 1 }, systemClock)
async function viaExchange(): Promise<string> {
  const r = await client.forecast('/api/forecast', body, 1200, LIMIT)
  if (r.kind !== 'ok') throw new Error(`forecast failed: ${JSON.stringify(r)}`)
  return r.text
}

// Both read the same answer (but for its `timing`): the comparison is of equal work.
const sameAnswer = (text: string): string => JSON.stringify((JSON.parse(text) as { forecasts: unknown }).forecasts)
if (sameAnswer(await viaRequest()) !== sameAnswer(await viaExchange())) throw new Error('the two clients read different answers')

/** CPU of this process (client + simulator) per round trip, measured over `n` sequential calls. */
async function cpuPerCall(fn: () => Promise<string>, n: number): Promise<{ wallUs: number; cpuUs: number }> {
  for (let i = 0; i < 500; i++) await fn()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await fn()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wallUs: (wall / n) * 1000, cpuUs: (c.user + c.system) / n }
}

group('one 288-point forecast POST, answer read (simulator in-process, answering at once)', () => {
  summary(() => {
    bench('request() + body stream (previous)', viaRequest).baseline(true)
    bench('dispatch() + ForecastExchange', viaExchange)
  })
})

const { benchmarks } = await run()
// CPU side by side, alternating so both see the same machine.
const cpu: Record<string, { wallUs: number; cpuUs: number }[]> = { request: [], exchange: [] }
for (let round = 0; round < 3; round++) {
  cpu['request']!.push(await cpuPerCall(viaRequest, 3000))
  cpu['exchange']!.push(await cpuPerCall(viaExchange, 3000))
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
for (const [name, rows] of Object.entries(cpu)) {
  console.log(`${name.padEnd(9)} wall ${med(rows.map((r) => r.wallUs)).toFixed(0)} µs, CPU (client + simulator) ${med(rows.map((r) => r.cpuUs)).toFixed(0)} µs per round trip (median of 3 × 3 000)`)
}
await client.close()
await pool.close()
await sim.close()

const rows = benchmarks.flatMap((b) => b.runs.map((r) => ({ name: r.name, avg_ns: r.stats ? Math.round(r.stats.avg) : null, p50_ns: r.stats ? Math.round(r.stats.p50) : null })))
const summaryRows = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, { wall_us: Math.round(med(v.map((r) => r.wallUs))), cpu_us: Math.round(med(v.map((r) => r.cpuUs))) }]))
console.log(`saved to ${saveIoResults('exchange', { benchmarks: rows, per_round_trip: summaryRows })}`)
