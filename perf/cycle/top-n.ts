/**
 * The top-N cycle (issue 6 §4): 200 markets of 288 points against the simulator in tollama-like
 * mode — 42 ms + 0.9 ms per series, one request at a time (tollama-api.md's measurements) —
 * through `POST /tsfm/cycle` and through 200 concurrent `POST /tsfm/forecast`, with multiplexing
 * on and off. Reported per variant: wall time, fallbacks, upstream requests made.
 *
 * The daemons:
 *  - `mux on`: the stock profile (a lane per model: ≤ 128 series a request, batches that fill
 *    while the upstream is busy, 1.2 s attempt timeout, 1.6 s deadline, predicted admission);
 *  - `mux off, equal work`: one series per request (`batch_max_series` 1) and budgets wide
 *    enough (30 s attempt timeout, 60 s deadline, no retries) that every market is still served
 *    by the upstream;
 *  - `mux off, stock budgets` (not in the gate): one series per request with the stock budgets —
 *    what turning multiplexing off really does: one request at a time at ~43 ms each cannot serve
 *    200 markets inside a 1.6 s deadline, so the lane sheds most of them (`queue_timeout`).
 *
 * The speed-up the gate checks is defined on equal work: wall time of the 200-market cycle with
 * multiplexing off (equal-work daemon) ÷ with multiplexing on (stock daemon), both required to
 * serve all 200 markets from the upstream (0 fallbacks) — otherwise the ratio would reward
 * answering from the baseline. Medians over runs.
 *
 * Run: make bench-cycle   (node dist/perf/cycle/top-n.js [--runs N])
 */
import type { DeepPartial, TsfmConfig } from '../../src/config/types.js'
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { postCycle, simReset, simStats } from '../load/control.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { median, round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { compact, formatCriteria, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import { table } from '../load/table.js'
import type { LoadReport } from '../load/tally.js'
import { runPrefix } from '../profiles/normal-load.js'
import { checkCycle, cycleBody, type CycleCheck } from './cycle-run.js'

export const TOP_N = {
  markets: 200,
  simArgs: ['--serial', '--latency-fixed', '42', '--latency-per-series', '0.9'],
  budgetMs: 60_000,
  requiredSpeedup: 10,
} as const

export const MUX_OFF_EQUAL_WORK: DeepPartial<TsfmConfig> = {
  adapter: { batch_max_series: 1, batch_window_ms: 0, timeout_s: 30, deadline_budget_ms: 60_000, retry_count: 0 },
  perf: { queue_timeout_ms: 60_000 },
}

export interface VariantRun {
  readonly wallMs: number
  readonly upstreamRequests: number
  readonly fallbacks: number
  readonly fallbacksByReason: Readonly<Record<string, number>>
  readonly invalid: number
}

export interface Variant {
  readonly name: string
  readonly via: 'cycle' | 'forecasts'
  readonly runs: readonly VariantRun[]
  readonly medianWallMs: number
  readonly cycles?: readonly CycleCheck[]
  readonly loads?: readonly LoadReport[]
}

export interface TopNResult {
  readonly variants: readonly Variant[]
  readonly speedup: number
  readonly criteria: readonly Criterion[]
}

function fromCycle(c: CycleCheck, upstreamRequests: number): VariantRun {
  return { wallMs: c.wallMs, upstreamRequests, fallbacks: c.fallbacks, fallbacksByReason: c.fallbacksByReason, invalid: c.invalid }
}

function fromLoad(r: LoadReport, upstreamRequests: number): VariantRun {
  return { wallMs: r.wall_ms, upstreamRequests, fallbacks: r.fallbacks, fallbacksByReason: r.fallbacks_by_reason, invalid: r.invalid + r.errors }
}

/** Connections and code paths warmed with a small cycle and a few singles; never counted. */
async function warm(daemon: Child, loader: Loader, markets: number): Promise<void> {
  const body = cycleBody(runPrefix('warm-cycle'), markets, TOP_N.budgetMs)
  await postCycle(daemon.url, body)
  await loader.run({ mix: new RequestMix({ prefix: runPrefix('warm'), uniqueKeys: Number.POSITIVE_INFINITY }), concurrency: markets, requests: markets })
}

async function cycles(sim: Child, daemon: Child, name: string, runs: number): Promise<Variant> {
  const out: VariantRun[] = []
  const checks: CycleCheck[] = []
  for (let r = 0; r < runs; r++) {
    await simReset(sim.url)
    const body = cycleBody(runPrefix('top-n'), TOP_N.markets, TOP_N.budgetMs)
    const c = checkCycle(await postCycle(daemon.url, body), body)
    checks.push(c)
    out.push(fromCycle(c, (await simStats(sim.url)).forecastRequests))
  }
  return { name, via: 'cycle', runs: out, medianWallMs: median(out.map((x) => x.wallMs)), cycles: checks }
}

async function forecasts(sim: Child, loader: Loader, name: string, runs: number): Promise<Variant> {
  const out: VariantRun[] = []
  const loads: LoadReport[] = []
  for (let r = 0; r < runs; r++) {
    await simReset(sim.url)
    const mix = new RequestMix({ prefix: runPrefix('top-n-singles'), uniqueKeys: TOP_N.markets, requests: TOP_N.markets })
    const report = await loader.run({ mix, concurrency: TOP_N.markets, requests: TOP_N.markets })
    loads.push(report)
    out.push(fromLoad(report, (await simStats(sim.url)).forecastRequests))
  }
  return { name, via: 'forecasts', runs: out, medianWallMs: median(out.map((x) => x.wallMs)), loads }
}

export interface TopNOptions {
  readonly runsOn: number
  readonly runsOff: number
  /** Also the 200 concurrent single forecasts (each variant). */
  readonly singles: boolean
  /** Also the mux-off daemon with stock budgets. */
  readonly stockOff: boolean
}

export async function runTopN(opts: TopNOptions): Promise<TopNResult> {
  const group = new ProcessGroup()
  const variants: Variant[] = []
  try {
    const sim = await group.simulator(TOP_N.simArgs)
    const setups: Setup[] = [
      { name: 'mux on (stock)', config: {}, runs: opts.runsOn, warm: 64, via: ['cycle', 'forecasts'] },
      { name: 'mux off, equal work', config: MUX_OFF_EQUAL_WORK, runs: opts.runsOff, warm: 4, via: ['cycle', 'forecasts'] },
    ]
    if (opts.stockOff) setups.push({ name: 'mux off, stock budgets', config: { adapter: { batch_max_series: 1, batch_window_ms: 0 } }, runs: 1, warm: 4, via: ['cycle', 'forecasts'] })
    for (const s of setups) {
      for (const via of s.via) {
        if (via === 'forecasts' && !opts.singles) continue
        // A fresh daemon per variant: a breaker opened by one must not decide the next.
        const daemon = await group.daemon(benchConfig(sim.url, s.config), `daemon (${s.name})`)
        const loader = new Loader(daemon.url, TOP_N.markets)
        try {
          await warm(daemon, loader, s.warm)
          variants.push(via === 'cycle' ? await cycles(sim, daemon, s.name, s.runs) : await forecasts(sim, loader, s.name, s.runs))
        } finally {
          await loader.close()
          await group.stop(daemon)
        }
      }
    }
  } finally {
    await group.stopAll()
  }
  return summarise(variants)
}

interface Setup {
  readonly name: string
  readonly config: DeepPartial<TsfmConfig>
  readonly runs: number
  /** Markets of the warm-up cycle (and concurrent singles). */
  readonly warm: number
  readonly via: readonly ('cycle' | 'forecasts')[]
}

function summarise(variants: readonly Variant[]): TopNResult {
  const on = variants.find((v) => v.via === 'cycle' && v.name.startsWith('mux on')) as Variant
  const off = variants.find((v) => v.via === 'cycle' && v.name === 'mux off, equal work') as Variant
  const speedup = off.medianWallMs / on.medianWallMs
  const fb = (v: Variant): number => v.runs.reduce((s, r) => s + r.fallbacks + r.invalid, 0)
  const criteria: Criterion[] = [
    criterion('blueprint', `cycle of ${TOP_N.markets} markets, mux on`, '≤ 60 s', ms(on.medianWallMs), on.medianWallMs <= 60_000),
    criterion('gate', 'mux on: every market from the upstream', '0 fallbacks', String(fb(on)), fb(on) === 0),
    criterion('gate', 'mux off (equal work): every market from the upstream', '0 fallbacks', String(fb(off)), fb(off) === 0),
    criterion('gate', 'speed-up: wall(mux off) ÷ wall(mux on), equal work', `≥ ${TOP_N.requiredSpeedup}×`, `${speedup.toFixed(1)}×`, speedup >= TOP_N.requiredSpeedup),
    criterion('target', `cycle of ${TOP_N.markets} markets, mux on, 0 fallbacks`, '≤ 1 s', ms(on.medianWallMs), on.medianWallMs <= 1000 && fb(on) === 0),
  ]
  return { variants, speedup, criteria }
}

export function describeTopN(res: TopNResult): string {
  const rows = res.variants.map((v) => {
    const r = v.runs
    return [
      v.name,
      v.via === 'cycle' ? 'POST /tsfm/cycle' : `${TOP_N.markets} × POST /tsfm/forecast`,
      String(r.length),
      ms(v.medianWallMs),
      r.map((x) => x.wallMs.toFixed(0)).join(' / '),
      String(median(r.map((x) => x.upstreamRequests))),
      r.map((x) => String(x.fallbacks)).join(' / '),
      Object.entries(r[r.length - 1]?.fallbacksByReason ?? {}).map(([k, n]) => `${k} ${n}`).join(', ') || '-',
    ]
  })
  return [
    `== top-N cycle: ${TOP_N.markets} markets × 288 points, simulator serial at 42 ms + 0.9 ms/series`,
    table(['daemon', 'via', 'runs', 'wall (median)', 'wall per run (ms)', 'upstream requests', 'fallbacks per run', 'fallback reasons (last run)'], rows),
    '',
    `speed-up (equal work, both 0 fallbacks): ${res.speedup.toFixed(1)}×`,
    formatCriteria(res.criteria),
  ].join('\n')
}

export function topNJson(res: TopNResult): Record<string, unknown> {
  return {
    options: TOP_N,
    mux_off_equal_work_config: MUX_OFF_EQUAL_WORK,
    speedup_definition: 'median wall of the 200-market POST /tsfm/cycle with one series per request (batch_max_series 1) and budgets wide enough to serve every market upstream, divided by the median wall with the stock config; both must have 0 fallbacks',
    speedup: round(res.speedup),
    variants: res.variants.map((v) => ({
      name: v.name,
      via: v.via,
      median_wall_ms: round(v.medianWallMs),
      runs: v.runs.map((r) => ({ ...r, wallMs: round(r.wallMs) })),
      ...(v.loads === undefined ? {} : { loads: v.loads.map(compact) }),
      ...(v.cycles === undefined ? {} : { daemon_summary_wall_ms: v.cycles.map((c) => c.summaryWallMs) }),
    })),
    criteria: res.criteria,
  }
}

runIfEntry(import.meta.url, 'top-n', async (argv) => {
  const runs = intFlag(argv, 'runs', 3)
  const res = await runTopN({ runsOn: runs, runsOff: runs, singles: true, stockOff: true })
  console.log(describeTopN(res))
  console.log(`saved to ${saveResult('cycle', topNJson(res))}`)
  return allPass(res.criteria, 'gate') ? 0 : 1
})
