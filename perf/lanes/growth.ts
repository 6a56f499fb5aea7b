/**
 * Cycles that grow (issue "upstream lanes", must-show list): `POST /tsfm/cycle` of 50, 500 and
 * 5 000 distinct markets (288 points each; 5 000 are ~12 MB of JSON, so this daemon's config
 * raises `server.cycle_max_requests` to 5 000 and `server.body_limit_bytes` to 32 MiB) against
 * the tollama-shaped simulator, one after another.
 *
 * How each criterion is measured:
 *  - wall time grows linearly: the client-side wall of each cycle (send of the body → last byte
 *    of the answer) ≤ 1.3 × the upstream's own time for that many series in full batches,
 *    ⌊n/128⌋ × T(128) + T(n mod 128), each T measured in this run with `measureShape` (straight
 *    to the simulator, one request at a time, the body the daemon would send);
 *  - every market answered from the upstream (`meta.runtime` tollama, every result checked);
 *  - memory: the daemon's `process_resident_memory_bytes` (`GET /metrics`, prom-client's process
 *    metrics; the whole process, the I/O and math threads included) at the start — after one
 *    uncounted warm-up cycle of 50 and 5 s idle — against the reading after the cycles and
 *    `--idle-ms` (25 s) of idleness: within 10 %. Nothing is forced (no GC call, no cache flush;
 *    the cache keeps the 5 550 answers it stored, as it would in service). The idle period is
 *    that long because V8 gives its grown heap back only when its memory reducer runs, 10–20 s
 *    into idleness on this machine (measured: RSS 231 MiB 10 s after a 5 000-market cycle,
 *    147 MiB at 20 s); the readings every 5 s are printed, with the main thread's V8 heap
 *    (used / total) and the cache size, so what stays can be told apart;
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
import { round } from '../load/percentiles.js'
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
    const config = benchConfig(sim.url, { server: { cycle_max_requests: maxMarkets, body_limit_bytes: GROWTH.bodyLimitBytes } })
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
    for (const n of opts.sizes) {
      await simReset(sim.url)
      const body = cycleBody(runPrefix(`lanes-growth-${n}`), n, GROWTH.budgetMs)
      const bodyBytes = Buffer.byteLength(JSON.stringify(body))
      const check = checkCycle(await postCycle(daemon.url, body), body)
      const stats = await simStats(sim.url)
      cycles.push({ markets: n, check, bodyBytes, upstreamMs: fullBatchMs(shape, n), upstreamRequests: stats.forecastRequests, batchSizes: stats.batchSizes })
      mem.push(await memory(daemon, `after the cycle of ${n}`))
    }
    await idle(daemon, opts.idleMs, mem, 'after the cycles')
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
  for (const c of r.cycles) {
    const ratio = c.check.wallMs / c.upstreamMs
    rows.push(
      criterion('target', `cycle of ${c.markets}: wall / upstream's own time in full batches`, `≤ ${GROWTH.maxOverUpstream}× (${ms(GROWTH.maxOverUpstream * c.upstreamMs)})`, `${ms(c.check.wallMs)} / ${ms(c.upstreamMs)} = ${ratio.toFixed(2)}×`, c.check.status === 200 && ratio <= GROWTH.maxOverUpstream),
      criterion('target', `cycle of ${c.markets}: answered from the upstream`, `${c.markets}/${c.markets}`, `${c.check.upstream}/${c.markets}${c.check.fallbacks > 0 ? ` (${Object.entries(c.check.fallbacksByReason).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}${c.check.problems.length > 0 ? ` ${c.check.problems.join('; ')}` : ''}`, c.check.upstream === c.markets),
    )
  }
  const start = r.memory.find((m) => m.label.startsWith('before')) as MemoryReading
  const end = r.memory[r.memory.length - 1] as MemoryReading
  const growth = end.rss / start.rss - 1
  rows.push(criterion('target', `resident memory after the cycles and ${ms(r.idleMs)} idle vs before`, `within ${pct(GROWTH.maxRssGrowth)}`, `${mib(end.rss)} vs ${mib(start.rss)} (${growth >= 0 ? '+' : ''}${pct(growth)})`, Math.abs(growth) <= GROWTH.maxRssGrowth))
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
        `cycle of ${c.markets} (${mib(c.bodyBytes)} body): ${ms(c.check.wallMs)} client-side (daemon summary ${c.check.summaryWallMs === null ? '-' : ms(c.check.summaryWallMs)}), upstream's own ${ms(c.upstreamMs)} in ${Math.ceil(c.markets / GROWTH.batch)} requests → ${(c.check.wallMs / c.upstreamMs).toFixed(2)}×, ${((c.check.wallMs / c.markets) * 1000).toFixed(0)} µs per market; ${c.upstreamRequests} upstream requests (${summariseSizes(c.batchSizes)}); ${c.check.upstream}/${c.markets} from the upstream`,
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
  const kept = r.cycles.reduce((s, c) => s + c.markets, 0)
  const heap = end.heapUsed - start.heapUsed
  const rest = end.rss - start.rss - heap
  return `kept after idling: V8 heap used ${heap >= 0 ? '+' : ''}${mib(heap)} for the ${kept} answers the cycles left in the cache (${((heap / kept) / 1024).toFixed(1)} KiB each); RSS outside the main thread's used heap ${rest >= 0 ? '+' : ''}${mib(rest)}`
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
