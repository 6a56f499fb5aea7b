/**
 * Cycles that grow (issue "upstream lanes", must-show list): `POST /tsfm/cycle` of 50, 500 and
 * 5 000 distinct markets (288 points each; 5 000 are ~12 MB of JSON, so this daemon's config
 * raises `server.cycle_max_requests` to 5 000 and `server.body_limit_bytes` to 32 MiB) against
 * the tollama-shaped simulator, one after another.
 *
 * How each criterion is measured:
 *  - wall time grows linearly: the client-side wall of a cycle (send of the body → last byte of
 *    the answer) ≤ 1.3 × the upstream's own time for that many series in full batches,
 *    ⌊n/128⌋ × T(128) + T(n mod 128), each T measured in this run with `measureShape` (straight
 *    to the simulator, one request at a time, the body the daemon would send). The figure judged
 *    is the median over the rounds and repetitions of that size: a cycle of 50 lasts ~90 ms, and
 *    one reading of it swung between 1.17× and 1.40× from run to run on this machine (a timer
 *    tick or a GC of the other threads is 10 % of it), so small cycles repeat (`repeatsFor`);
 *  - every market answered from the upstream (`meta.runtime` tollama, every result checked);
 *  - memory: the daemon's `process_resident_memory_bytes` (`GET /metrics`, prom-client's process
 *    metrics; the whole process, the I/O and math threads included). The cycles run in three
 *    rounds, fresh markets each time, each round followed by `--idle-ms` (25 s) of idleness (V8
 *    gives its grown heap back only when its memory reducer runs, 10–20 s into idleness on this
 *    machine); the criterion is the last round's reading against the one before: within 10 %,
 *    i.e. serving thousands more markets left nothing per market behind. Not against the reading
 *    before any cycle: the first 5 000-market cycle grows what the process keeps for good — V8's
 *    heap reservation and glibc's malloc arenas (+60–75 MiB of RSS outside the main thread's used
 *    heap, measured) — which no amount of idling returns and which later rounds reuse instead of
 *    growing. The daemon
 *    runs with `cache.max_entries` 1 000 so that the answer cache — per-market state by design,
 *    bounded by that key (~1.9 KiB an answer; 50 000 by default, ~90 MiB when full) — does not
 *    stand in the way of seeing anything else. Nothing is forced (no GC call, no cache flush);
 *    the readings every 5 s are printed with the main thread's V8 heap (used / total), and the
 *    heap used after the last round is compared with its value after the first (within 10 %;
 *    not with the one before any cycle, when the cache held only the warm-up's 50 answers: the
 *    1 000 it holds after a round are +3.4 MiB, measured);
 *  - no per-market state left: `/tsfm/state` `queue.markets`, `queue.flights` and
 *    `queue.open_requests` all 0 after the cycles.
 *
 * Run: make bench-lanes-growth   (node dist/perf/lanes/growth.js [--sizes 50,500,5000] [--idle-ms N])
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { daemonState, postCycle, simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, pct, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { median, round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { fetchMetrics, gauge } from '../load/prom-text.js'
import { formatCriteria, saveResult } from '../load/report.js'
import { runPrefix } from '../profiles/normal-load.js'
import { checkCycle, cycleBody, type CycleCheck } from '../cycle/cycle-run.js'
import type { RunnerState } from '../../src/supervisor/state.js'
import { measureShape, shapeT, TOLLAMA_SHAPE, type UpstreamShape } from './upstream-shape.js'

export const GROWTH = {
  sizes: [50, 500, 5000],
  batch: 128,
  budgetMs: 60_000,
  maxOverUpstream: 1.3,
  maxRssGrowth: 0.1,
  rounds: 3,
  /** A small answer cache, so its (bounded) share of memory does not hide anything else. */
  cacheEntries: 1000,
  idleMs: 25_000,
  startIdleMs: 5000,
  readingEveryMs: 5000,
  warmupMarkets: 50,
  bodyLimitBytes: 32 * 1024 * 1024,
} as const

export interface MemoryReading {
  readonly label: string
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
}

export interface GrowthCycle {
  readonly round: number
  readonly markets: number
  readonly check: CycleCheck
  readonly bodyBytes: number
  /** ⌊n/128⌋ × T(128) + T(n mod 128), ms. */
  readonly upstreamMs: number
  readonly upstreamRequests: number
  readonly batchSizes: readonly number[]
}

export interface GrowthResult {
  readonly shape: UpstreamShape
  readonly cycles: readonly GrowthCycle[]
  readonly memory: readonly MemoryReading[]
  readonly state: RunnerState
  readonly idleMs: number
  readonly criteria: readonly Criterion[]
}

export interface GrowthOptions {
  readonly sizes: readonly number[]
  readonly idleMs: number
}

/** How many times a cycle of n markets runs in each round: small ones are short enough to be noisy. */
export function repeatsFor(n: number): number {
  return n <= 100 ? 5 : n <= 1000 ? 3 : 1
}

/** The upstream's own time for n series sent as full batches of 128 and one remainder. */
export function fullBatchMs(shape: UpstreamShape, n: number, batch: number = GROWTH.batch): number {
  const rest = n % batch
  return Math.floor(n / batch) * shapeT(shape, batch) + (rest > 0 ? shapeT(shape, rest) : 0)
}

async function memory(daemon: Child, label: string): Promise<MemoryReading> {
  const m = await fetchMetrics(daemon.url)
  return { label, rss: gauge(m, 'process_resident_memory_bytes'), heapUsed: gauge(m, 'nodejs_heap_size_used_bytes'), heapTotal: gauge(m, 'nodejs_heap_size_total_bytes') }
}

/** Idle for `idleMs`, a reading every GROWTH.readingEveryMs (the last one is the result). */
async function idle(daemon: Child, idleMs: number, mem: MemoryReading[], what: string): Promise<void> {
  let waited = 0
  while (waited < idleMs) {
    const step = Math.min(GROWTH.readingEveryMs, idleMs - waited)
    await sleep(step)
    waited += step
    mem.push(await memory(daemon, `${what}, ${ms(waited)} idle`))
  }
}

export async function runGrowth(opts: GrowthOptions): Promise<GrowthResult> {
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator(TOLLAMA_SHAPE)
    const maxMarkets = Math.max(...opts.sizes, GROWTH.warmupMarkets)
    const config = benchConfig(sim.url, { server: { cycle_max_requests: maxMarkets, body_limit_bytes: GROWTH.bodyLimitBytes }, cache: { max_entries: GROWTH.cacheEntries } })
    const daemon = await group.daemon(config, 'daemon (cycle limits raised)')
    const mem: MemoryReading[] = [await memory(daemon, 'at start')]
    const sizes = [...new Set([GROWTH.batch, ...opts.sizes.map((n) => n % GROWTH.batch).filter((r) => r > 0)])]
    const shape = await measureShape(sim.url, sizes)
    // One uncounted cycle: the daemon's code paths compiled, its connections to the upstream open.
    const warm = cycleBody(runPrefix('lanes-growth-warm'), GROWTH.warmupMarkets, GROWTH.budgetMs)
    await postCycle(daemon.url, warm)
    await sleep(GROWTH.startIdleMs)
    mem.push(await memory(daemon, `before the cycles (after a warm-up cycle of ${GROWTH.warmupMarkets} and ${ms(GROWTH.startIdleMs)} idle)`))
    const cycles: GrowthCycle[] = []
    for (let round = 1; round <= GROWTH.rounds; round++) {
      for (const n of opts.sizes) {
        for (let rep = 1; rep <= repeatsFor(n); rep++) {
          await simReset(sim.url)
          const body = cycleBody(runPrefix(`lanes-growth-${round}-${n}-${rep}`), n, GROWTH.budgetMs)
          const bodyBytes = Buffer.byteLength(JSON.stringify(body))
          const check = checkCycle(await postCycle(daemon.url, body), body)
          const stats = await simStats(sim.url)
          cycles.push({ round, markets: n, check, bodyBytes, upstreamMs: fullBatchMs(shape, n), upstreamRequests: stats.forecastRequests, batchSizes: stats.batchSizes })
        }
        mem.push(await memory(daemon, `round ${round}: after the cycle${repeatsFor(n) > 1 ? 's' : ''} of ${n}`))
      }
      await idle(daemon, opts.idleMs, mem, `round ${round}: after the cycles`)
    }
    const state = await daemonState(daemon.url)
    const res = { shape, cycles, memory: mem, state, idleMs: opts.idleMs }
    return { ...res, criteria: judge(res) }
  } finally {
    await group.stopAll()
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

function judge(r: Omit<GrowthResult, 'criteria'>): Criterion[] {
  const rows: Criterion[] = []
  for (const n of new Set(r.cycles.map((c) => c.markets))) {
    const of = r.cycles.filter((c) => c.markets === n)
    const upstreamMs = (of[0] as GrowthCycle).upstreamMs
    const walls = of.map((c) => c.check.wallMs)
    const wall = median(walls)
    const ratio = wall / upstreamMs
    const answered = of.reduce((s, c) => s + c.check.upstream, 0)
    const fallbacks = new Map<string, number>()
    for (const c of of) for (const [k, v] of Object.entries(c.check.fallbacksByReason)) fallbacks.set(k, (fallbacks.get(k) ?? 0) + v)
    const problems = of.flatMap((c) => c.check.problems)
    rows.push(
      criterion('target', `cycle of ${n}: wall / upstream's own time in full batches (median of ${of.length})`, `≤ ${GROWTH.maxOverUpstream}× (${ms(GROWTH.maxOverUpstream * upstreamMs)})`, `${ms(wall)} / ${ms(upstreamMs)} = ${ratio.toFixed(2)}× (range ${(Math.min(...walls) / upstreamMs).toFixed(2)}–${(Math.max(...walls) / upstreamMs).toFixed(2)}×)`, of.every((c) => c.check.status === 200) && ratio <= GROWTH.maxOverUpstream),
      criterion('target', `cycles of ${n}: answered from the upstream`, `${n * of.length}/${n * of.length}`, `${answered}/${n * of.length}${fallbacks.size > 0 ? ` (${[...fallbacks].map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}${problems.length > 0 ? ` ${problems.slice(0, 3).join('; ')}` : ''}`, answered === n * of.length),
    )
  }
  const before = r.memory.find((m) => m.label.startsWith('before')) as MemoryReading
  const endOf = (round: number): MemoryReading => [...r.memory].reverse().find((m) => m.label.startsWith(`round ${round}: after the cycles`)) as MemoryReading
  const first = endOf(1)
  const previous = endOf(GROWTH.rounds - 1)
  const end = endOf(GROWTH.rounds)
  const growth = end.rss / previous.rss - 1
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${pct(x)}`
  rows.push(
    criterion('target', `resident memory after round ${GROWTH.rounds} of the cycles (+${ms(r.idleMs)} idle) vs after round ${GROWTH.rounds - 1}`, `within ${pct(GROWTH.maxRssGrowth)}`, `${mib(end.rss)} vs ${mib(previous.rss)} (${signed(growth)}); before any cycle ${mib(before.rss)}`, Math.abs(growth) <= GROWTH.maxRssGrowth),
    criterion('target', `main-thread V8 heap used after round ${GROWTH.rounds} vs after round 1`, `within ${pct(GROWTH.maxRssGrowth)}`, `${mib(end.heapUsed)} vs ${mib(first.heapUsed)} (${signed(end.heapUsed / first.heapUsed - 1)}); before any cycle ${mib(before.heapUsed)}`, end.heapUsed <= first.heapUsed * (1 + GROWTH.maxRssGrowth)),
  )
  const q = r.state.queue
  const left = q.markets + q.flights + q.open_requests
  rows.push(criterion('target', 'per-market state left (queue.markets, flights, open_requests)', '0, 0, 0', `${q.markets}, ${q.flights}, ${q.open_requests}`, left === 0))
  return rows
}

export function describeGrowth(r: GrowthResult): string {
  return [
    `== growth: POST /tsfm/cycle of ${r.cycles.map((c) => c.markets).join(', ')} markets (simulator: ${TOLLAMA_SHAPE.join(' ')})`,
    `upstream alone: ${Object.entries(r.shape.t).map(([n, t]) => `T${n} ${ms(t)}`).join(', ')}`,
    ...r.cycles.map(
      (c) =>
        `round ${c.round}, cycle of ${c.markets} (${mib(c.bodyBytes)} body): ${ms(c.check.wallMs)} client-side (daemon summary ${c.check.summaryWallMs === null ? '-' : ms(c.check.summaryWallMs)}), upstream's own ${ms(c.upstreamMs)} in ${Math.ceil(c.markets / GROWTH.batch)} requests → ${(c.check.wallMs / c.upstreamMs).toFixed(2)}×, ${((c.check.wallMs / c.markets) * 1000).toFixed(0)} µs per market; ${c.upstreamRequests} upstream requests (${summariseSizes(c.batchSizes)}); ${c.check.upstream}/${c.markets} from the upstream`,
    ),
    'memory (RSS / main thread V8 heap):',
    ...r.memory.map((m) => `  ${m.label}: ${mib(m.rss)} / ${mib(m.heapUsed)} used of ${mib(m.heapTotal)}`),
    `after: queue ${JSON.stringify(r.state.queue)}, cache size ${r.state.cache.size}`,
    heapLine(r),
    formatCriteria(r.criteria),
  ].join('\n')
}

/** What the main thread's heap kept, per answer the cache kept (the cache is bounded by `cache.max_entries`). */
function heapLine(r: GrowthResult): string {
  const start = r.memory.find((m) => m.label.startsWith('before')) as MemoryReading
  const end = r.memory[r.memory.length - 1] as MemoryReading
  const kept = Math.max(1, r.state.cache.size)
  const heap = end.heapUsed - start.heapUsed
  const rest = end.rss - start.rss - heap
  return `kept after idling: V8 heap used ${heap >= 0 ? '+' : ''}${mib(heap)} with ${kept} answers in the cache (${((heap / kept) / 1024).toFixed(1)} KiB each); RSS outside the main thread's used heap ${rest >= 0 ? '+' : ''}${mib(rest)}`
}

function summariseSizes(sizes: readonly number[]): string {
  const counts = new Map<number, number>()
  for (const s of sizes) counts.set(s, (counts.get(s) ?? 0) + 1)
  return [...counts]
    .sort((a, b) => b[0] - a[0])
    .map(([n, k]) => (k > 1 ? `${k}×${n}` : String(n)))
    .join(' + ')
}

export function growthJson(r: GrowthResult, opts: GrowthOptions): Record<string, unknown> {
  return {
    options: { ...GROWTH, ...opts },
    upstream: { t_ms: Object.fromEntries(Object.entries(r.shape.t).map(([k, v]) => [k, round(v)])) },
    cycles: r.cycles.map((c) => ({
      round: c.round,
      markets: c.markets,
      body_bytes: c.bodyBytes,
      wall_ms: round(c.check.wallMs),
      summary_wall_ms: c.check.summaryWallMs,
      upstream_full_batches_ms: round(c.upstreamMs),
      ratio: round(c.check.wallMs / c.upstreamMs),
      upstream: c.check.upstream,
      fallbacks: c.check.fallbacksByReason,
      upstream_requests: c.upstreamRequests,
      batch_sizes: c.batchSizes,
    })),
    memory: r.memory,
    queue_after: r.state.queue,
    cache_after: r.state.cache,
    criteria: r.criteria,
  }
}

function sizesFlag(argv: readonly string[]): number[] {
  const i = argv.indexOf('--sizes')
  if (i < 0) return [...GROWTH.sizes]
  const v = (argv[i + 1] ?? '').split(',').map(Number)
  if (v.length === 0 || v.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`--sizes should be positive integers separated by commas, got ${JSON.stringify(argv[i + 1])}`)
  return v
}

runIfEntry(import.meta.url, 'lanes-growth', async (argv) => {
  const opts: GrowthOptions = { sizes: sizesFlag(argv), idleMs: intFlag(argv, 'idle-ms', GROWTH.idleMs) }
  const res = await runGrowth(opts)
  console.log(describeGrowth(res))
  console.log(`saved to ${saveResult('lanes-growth', growthJson(res, opts))}`)
  return allPass(res.criteria) ? 0 : 1
})
