/**
 * What the daemon adds to a forecast (issue 6 §5): the same single-series requests sent
 * (a) straight to the simulator, as the tollama request the daemon itself would send (built by
 * src/io/thread/wire.ts from the validated request), and (b) through the daemon as `POST /tsfm/forecast`,
 * interleaved in one run so that both see the same machine. The simulator answers at once
 * (latency 0, not serial): what is left is the cost of the path, not of a model.
 *
 * Latency: one request at a time, the paths taking turns (the order rotates every request, so
 * neither always follows the other), each daemon request a new market (no cache hit can flatter
 * it). Added latency = percentile through the daemon − the same percentile direct.
 * Throughput: blocks of requests at a fixed concurrency, the paths again taking turns block by
 * block; ratio = daemon req/s ÷ direct req/s (medians over blocks). On this machine the load
 * generator, the daemon's threads and the simulator share 2 cores, so the ratio is also a
 * measure of how much CPU the daemon spends per request next to the simulator's own.
 *
 * Two daemons: the stock profile (what the gate judges; an idle upstream gets a lone request at
 * once, the 2 ms batch window only runs while a request is in flight) and, for comparison,
 * multiplexing off (`batch_window_ms` 0, reported, not gated).
 *
 * Run: make bench-overhead   (node dist/perf/overhead/direct-vs-daemon.js [--pairs N] [--rounds R])
 */
import { Pool } from 'undici'
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { checkResponse, DEFAULT_HORIZON, DEFAULT_QUANTILES, type Verdict } from '../load/check-answer.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { median, percentiles, round, type Percentiles } from '../load/percentiles.js'
import { ProcessGroup } from '../load/processes.js'
import { formatCriteria, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import { table } from '../load/table.js'
import { upstreamAnswerProblem, upstreamBody } from '../load/upstream-body.js'
import { runPrefix } from '../profiles/normal-load.js'

export const OVERHEAD = {
  pairs: 200,
  rounds: 5,
  concurrency: 16,
  blocks: 3,
  blockRequests: 1500,
  /** The gate: added p50 through the stock daemon (median over the rounds). */
  maxAddedP50Ms: 2,
} as const

const HEADERS = { 'content-type': 'application/json' }
const SHAPES = 16
const WARM_SEQUENTIAL = 300

export interface Path {
  readonly name: string
  readonly pool: Pool
  readonly path: string
  /** Body of request i. */
  body(i: number): string | Buffer
  /** null when the answer is what the path must produce. */
  check(status: number, text: string, i: number): string | null
}

export async function send(p: Path, i: number): Promise<{ ms: number; problem: string | null }> {
  // The body is assembled before the clock starts: the load generator's own work (a daemon body
  // is a template filled per request, a direct one a prepared buffer) is not the daemon's latency.
  const body = p.body(i)
  const t0 = performance.now()
  try {
    const res = await p.pool.request({ path: p.path, method: 'POST', headers: HEADERS, body })
    const text = await res.body.text()
    return { ms: performance.now() - t0, problem: p.check(res.statusCode, text, i) }
  } catch (e) {
    return { ms: performance.now() - t0, problem: `net_${(e as { code?: string }).code ?? (e as Error).name}` }
  }
}

export function directPath(simUrl: string, connections: number): Path {
  // The simulator keeps no cache: one body per series shape serves every request of that shape.
  const mix = new RequestMix({ prefix: 'direct', uniqueKeys: SHAPES, requests: SHAPES })
  const bodies = Array.from({ length: SHAPES }, (_, k) => Buffer.from(upstreamBody(mix.body(k).toString())))
  return {
    name: 'direct to the simulator',
    pool: new Pool(simUrl, { connections, pipelining: 1 }),
    path: '/api/forecast',
    body: (i) => bodies[i % SHAPES] as Buffer,
    check: (status, text) => upstreamAnswerProblem(status, text),
  }
}

export function daemonPath(name: string, url: string, connections: number): Path {
  // Key i has series shape i mod 16, as the direct bodies do; every key is a new market.
  const mix = new RequestMix({ prefix: runPrefix('overhead'), uniqueKeys: Number.POSITIVE_INFINITY })
  return {
    name,
    pool: new Pool(url, { connections, pipelining: 1 }),
    path: '/tsfm/forecast',
    // As bytes, like the direct bodies: a string would be encoded inside the timed request.
    body(i) {
      const b = mix.body(i)
      return typeof b === 'string' ? Buffer.from(b) : b
    },
    check(status, text, i) {
      const v: Verdict = checkResponse(status, text, { marketId: mix.marketId(i), horizon: DEFAULT_HORIZON, quantiles: DEFAULT_QUANTILES })
      if (v.kind === 'success') return v.cacheHit ? 'unexpected cache hit' : null
      return v.kind === 'fallback' ? `fallback ${v.reason}` : v.kind === 'error' ? v.what : v.problem
    },
  }
}

/** Closed-loop block: `n` requests, `concurrency` at a time; returns req/s and problems. */
async function block(p: Path, first: number, n: number, concurrency: number): Promise<{ rps: number; problems: number }> {
  let next = 0
  let problems = 0
  const t0 = performance.now()
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = first + next++
      if ((await send(p, i)).problem !== null) problems++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { rps: (n / (performance.now() - t0)) * 1000, problems }
}

export interface PathFigures {
  readonly name: string
  readonly latency: Percentiles
  readonly rps: readonly number[]
  readonly problems: number
  readonly firstProblem: string | null
}

export interface OverheadResult {
  readonly pairs: number
  readonly rounds: number
  /** Added p50 of the stock daemon in each round (ms). */
  readonly roundAddedP50: readonly number[]
  readonly paths: readonly PathFigures[]
  /** Added latency of each daemon path over direct (ms) and throughput ratio. */
  readonly added: readonly { readonly name: string; readonly p50: number; readonly p99: number; readonly rpsRatio: number }[]
  readonly criteria: readonly Criterion[]
}

export interface OverheadOptions {
  /** Interleaved requests per path and round. */
  readonly pairs: number
  /** Latency rounds; the added p50 the gate judges is the median over rounds. */
  readonly rounds: number
  /** Throughput blocks per path (0: latency only, the gate's short form). */
  readonly blocks: number
  readonly blockRequests: number
  /** Also a daemon with multiplexing off (batch window 0), for comparison. */
  readonly compareOff: boolean
}

export async function runOverhead(opts: OverheadOptions): Promise<OverheadResult> {
  const group = new ProcessGroup()
  const c = OVERHEAD.concurrency
  const paths: Path[] = []
  try {
    const sim = await group.simulator(['--latency-fixed', '0', '--latency-per-series', '0'])
    const stock = await group.daemon(benchConfig(sim.url), 'daemon (stock)')
    paths.push(directPath(sim.url, c), daemonPath('daemon, stock (batch window 2 ms)', stock.url, c))
    if (opts.compareOff) {
      const off = await group.daemon(benchConfig(sim.url, { adapter: { batch_window_ms: 0, batch_max_series: 1 } }), 'daemon (batch window 0)')
      paths.push(daemonPath('daemon, batch window 0', off.url, c))
    }
    // Warm-up, never counted: connections, JIT, the daemons' caches of compiled paths — at the
    // block concurrency, then one at a time as the latency rounds send (their code paths differ:
    // a lone request is never multiplexed).
    let index = 0
    for (const p of paths) await block(p, (index += 2000) - 2000, 2000, c)
    for (let i = 0; i < WARM_SEQUENTIAL; i++) for (const p of paths) await send(p, index + i)
    index += WARM_SEQUENTIAL

    const lat = paths.map(() => [] as number[])
    const problems = paths.map(() => 0)
    const firstProblem: (string | null)[] = paths.map(() => null)
    const roundAddedP50: number[] = []
    for (let round = 0; round < opts.rounds; round++) {
      const roundLat = paths.map(() => [] as number[])
      for (let i = 0; i < opts.pairs; i++) {
        for (let j = 0; j < paths.length; j++) {
          const k = (i + j) % paths.length
          const r = await send(paths[k] as Path, index + i)
          ;(roundLat[k] as number[]).push(r.ms)
          ;(lat[k] as number[]).push(r.ms)
          if (r.problem !== null) {
            problems[k] = (problems[k] as number) + 1
            firstProblem[k] ??= r.problem
          }
        }
      }
      index += opts.pairs
      roundAddedP50.push(percentiles(roundLat[1] as number[]).p50 - percentiles(roundLat[0] as number[]).p50)
    }
    const rps = paths.map(() => [] as number[])
    for (let b = 0; b < opts.blocks; b++) {
      for (let j = 0; j < paths.length; j++) {
        const k = (b + j) % paths.length
        const r = await block(paths[k] as Path, index, opts.blockRequests, c)
        index += opts.blockRequests
        ;(rps[k] as number[]).push(r.rps)
        problems[k] = (problems[k] as number) + r.problems
      }
    }
    const figures: PathFigures[] = paths.map((p, k) => ({
      name: p.name,
      latency: percentiles(lat[k] as number[]),
      rps: rps[k] as number[],
      problems: problems[k] as number,
      firstProblem: firstProblem[k] ?? null,
    }))
    return summarise(opts, figures, roundAddedP50)
  } finally {
    await Promise.all(paths.map((p) => p.pool.close()))
    await group.stopAll()
  }
}

function summarise(opts: OverheadOptions, paths: readonly PathFigures[], roundAddedP50: readonly number[]): OverheadResult {
  const direct = paths[0] as PathFigures
  const added = paths.slice(1).map((p) => ({
    name: p.name,
    p50: p.latency.p50 - direct.latency.p50,
    p99: p.latency.p99 - direct.latency.p99,
    rpsRatio: p.rps.length === 0 ? Number.NaN : median(p.rps) / median(direct.rps),
  }))
  const addedP50 = median(roundAddedP50)
  const problems = paths.reduce((s, p) => s + p.problems, 0)
  const criteria: Criterion[] = [
    criterion('gate', `added p50 latency, stock daemon over direct, median of ${opts.rounds} rounds`, `≤ ${OVERHEAD.maxAddedP50Ms} ms`, ms(addedP50), addedP50 <= OVERHEAD.maxAddedP50Ms),
    criterion('gate', 'every answer valid, every daemon answer from the upstream', '0 problems', String(problems), problems === 0),
  ]
  return { pairs: opts.pairs, rounds: opts.rounds, roundAddedP50, paths, added, criteria }
}

export function describeOverhead(res: OverheadResult): string {
  return [
    `== overhead: ${res.rounds} rounds × ${res.pairs} interleaved single-series requests per path, one at a time; throughput blocks at concurrency ${OVERHEAD.concurrency}`,
    table(
      ['path', 'p50', 'p95', 'p99', 'max', 'req/s (median of blocks)', 'problems'],
      res.paths.map((p) => [
        p.name,
        ms(p.latency.p50),
        ms(p.latency.p95),
        ms(p.latency.p99),
        ms(p.latency.max),
        p.rps.length === 0 ? '-' : median(p.rps).toFixed(0),
        p.firstProblem === null ? String(p.problems) : `${p.problems} (${p.firstProblem})`,
      ]),
    ),
    '',
    table(
      ['daemon', 'added p50', 'added p99', 'throughput vs direct'],
      res.added.map((a) => [a.name, ms(a.p50), ms(a.p99), Number.isNaN(a.rpsRatio) ? '-' : `${a.rpsRatio.toFixed(2)}×`]),
    ),
    '',
    `added p50 per round (stock daemon): ${res.roundAddedP50.map((x) => ms(x)).join(', ')}`,
    formatCriteria(res.criteria),
  ].join('\n')
}

export function overheadJson(res: OverheadResult): Record<string, unknown> {
  const p = (x: Percentiles) => ({ p50: round(x.p50), p95: round(x.p95), p99: round(x.p99), max: round(x.max) })
  return {
    options: OVERHEAD,
    pairs: res.pairs,
    rounds: res.rounds,
    round_added_p50_ms: res.roundAddedP50.map(round),
    paths: res.paths.map((x) => ({ name: x.name, latency_ms: p(x.latency), rps: x.rps.map(round), problems: x.problems, first_problem: x.firstProblem })),
    added: res.added.map((a) => ({ name: a.name, p50_ms: round(a.p50), p99_ms: round(a.p99), throughput_ratio: round(a.rpsRatio) })),
    criteria: res.criteria,
  }
}

runIfEntry(import.meta.url, 'direct-vs-daemon', async (argv) => {
  const res = await runOverhead({ pairs: intFlag(argv, 'pairs', OVERHEAD.pairs), rounds: intFlag(argv, 'rounds', OVERHEAD.rounds), blocks: OVERHEAD.blocks, blockRequests: OVERHEAD.blockRequests, compareOff: true })
  console.log(describeOverhead(res))
  console.log(`saved to ${saveResult('overhead', overheadJson(res))}`)
  return allPass(res.criteria, 'gate') ? 0 : 1
})
