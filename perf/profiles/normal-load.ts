import { benchConfig } from '../load/bench-config.js'
import { simReset, simStats } from '../load/control.js'
import { criterion, ms, pct, type Criterion } from '../load/criteria.js'
import { Loader } from '../load/loader.js'
import { DirectProbe } from '../load/direct-probe.js'
import { median, percentiles, round, type Percentiles } from '../load/percentiles.js'
import { ProcessGroup } from '../load/processes.js'
import { compact, formatCriteria, formatRuns } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import { StateSampler, type StateSample } from '../load/state-sampler.js'
import { table } from '../load/table.js'
import type { LoadReport } from '../load/tally.js'

/**
 * The blueprint's two healthy-upstream profiles (§5): steady (200 requests over 20 unique keys,
 * upstream 15 ms) and mixed (200 requests over 100 unique keys, upstream 80 ms). The simulator
 * answers every forecast request in exactly the upstream latency (`--latency-per-series 0`, not
 * serial: the latency is the upstream's, not a queue's), the daemon runs the stock profile, and
 * the load generator keeps `concurrency` requests in flight. Each run uses fresh market ids, so
 * it starts with a cold cache and its repeats are the mix's own. While a run goes, a DirectProbe
 * times single-series requests sent straight to the simulator: "upstream latency" in the gate's
 * "p95 ≤ upstream latency + 20 ms" is that measured p95, not the configured 15 or 80 ms (a busy
 * 2-core machine stretches the simulator too: configured 80 ms, measured p95 ≈ 85 ms).
 *
 * The blueprint names no concurrency; the profiles use 8 clients (`--concurrency` changes it).
 * Medians of 5 runs at 8 / 16 / 32 clients: steady p95 22.8 / 25.3 / 33.3 ms, mixed p95
 * 91.7 / 97.1 / 108 ms. The growth is the daemon's main thread: a multiplexed batch returns up to
 * 32 answers at once, and each costs ~0.1–0.4 ms of main-thread CPU (post-processing hop,
 * serialisation, socket write) on 2 cores shared with the simulator and the load generator, so
 * the last answer of a burst waits for the others. At 8 clients the figures measure the runtime's
 * path, not a queue the benchmark built for itself.
 */

export interface NormalLoadOptions {
  readonly name: string
  readonly requests: number
  readonly uniqueKeys: number
  readonly upstreamMs: number
  readonly concurrency: number
  readonly runs: number
}

export interface RunFigures {
  readonly report: LoadReport
  /** The simulator's own latency during the run (DirectProbe), and its invalid answers. */
  readonly direct: Percentiles
  readonly directSamples: readonly number[]
  readonly direct_problems: number
  readonly state: StateSample
  readonly upstream_requests: number
  readonly upstream_series: number
}

export interface NormalLoadResult {
  readonly options: NormalLoadOptions
  readonly runs: readonly RunFigures[]
  /** Medians over the runs (ms). */
  readonly p50: number
  readonly p95: number
  readonly p99: number
  /** The upstream's own p95/p99 (DirectProbe), over the samples of every run together. */
  readonly upstreamP95: number
  readonly upstreamP99: number
  readonly wall: number
  readonly throughput: number
  readonly fallbacks: number
  readonly invalid: number
  readonly criteria: readonly Criterion[]
}

/** Direct requests to the simulator kept in flight during a run (DirectProbe). */
const DIRECT_CONCURRENCY = 2

let runCounter = 0

/** A market-id prefix no earlier run of this process (or a recent one) used. */
export function runPrefix(name: string): string {
  return `${name}-${Date.now().toString(36)}-${++runCounter}`
}

/**
 * Warm-up, never counted: every connection opened and the daemon's hot paths compiled. Measured:
 * the daemon's cache-hit throughput climbs from ~2 900 to ~4 600 req/s over its first ~15 000
 * requests (V8 tiering), so a few hundred requests are not enough. A quarter of the warm-up
 * requests go upstream, the rest are cache hits.
 */
export async function warmUp(loader: Loader, concurrency: number, durationMs = 1500): Promise<void> {
  const mix = new RequestMix({ prefix: runPrefix('warm'), uniqueKeys: 2000, requests: 8000 })
  await loader.run({ mix, concurrency, durationMs })
}

export async function runNormalLoad(opts: NormalLoadOptions): Promise<NormalLoadResult> {
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator(['--latency-fixed', String(opts.upstreamMs), '--latency-per-series', '0'])
    const daemon = await group.daemon(benchConfig(sim.url))
    const loader = new Loader(daemon.url, opts.concurrency)
    try {
      await warmUp(loader, opts.concurrency)
      const runs: RunFigures[] = []
      for (let r = 0; r < opts.runs; r++) {
        await simReset(sim.url)
        const mix = new RequestMix({ prefix: runPrefix(opts.name), uniqueKeys: opts.uniqueKeys, requests: opts.requests, seed: r + 1 })
        const sampler = new StateSampler(daemon.url).start()
        const direct = new DirectProbe(sim.url, DIRECT_CONCURRENCY).start()
        const report = await loader.run({ mix, concurrency: opts.concurrency, requests: opts.requests })
        const upstream = await direct.stop()
        await sampler.poll()
        const state = sampler.stop()
        const stats = await simStats(sim.url)
        runs.push({ report, direct: upstream.latency, directSamples: upstream.samples, direct_problems: upstream.problems, state, upstream_requests: stats.forecastRequests, upstream_series: stats.seriesTotal })
      }
      return summarise(opts, runs)
    } finally {
      await loader.close()
    }
  } finally {
    await group.stopAll()
  }
}

function summarise(opts: NormalLoadOptions, runs: readonly RunFigures[]): NormalLoadResult {
  const med = (f: (r: LoadReport) => number): number => median(runs.map((x) => f(x.report)))
  const p50 = med((r) => r.latency_ms.p50)
  const p95 = med((r) => r.latency_ms.p95)
  const p99 = med((r) => r.latency_ms.p99)
  const wall = med((r) => r.wall_ms)
  const throughput = med((r) => r.throughput_rps)
  const fallbacks = runs.reduce((s, x) => s + x.report.fallbacks, 0)
  const errors = runs.reduce((s, x) => s + x.report.errors, 0)
  const invalid = runs.reduce((s, x) => s + x.report.invalid, 0)
  const answered = runs.reduce((s, x) => s + x.report.requests, 0)
  const up = opts.upstreamMs
  // Pooled: a 200-request steady run leaves time for only ~20 direct requests.
  const upstream = percentiles(runs.flatMap((x) => x.directSamples))
  const upstreamP95 = upstream.p95
  const upstreamP99 = upstream.p99
  const directProblems = runs.reduce((s, x) => s + x.direct_problems, 0)
  const criteria: Criterion[] = [
    criterion('blueprint', 'p50 latency', '≤ 120 ms', ms(p50), p50 <= 120),
    criterion('blueprint', 'p95 latency', '≤ 300 ms', ms(p95), p95 <= 300),
    criterion('blueprint', 'p99 latency', '≤ 700 ms', ms(p99), p99 <= 700),
    criterion('blueprint', `cycle of ${opts.requests} requests`, '≤ 60 s', ms(wall), wall <= 60_000),
    criterion('blueprint', 'sustained throughput', '≥ 4 req/s', `${throughput.toFixed(0)} req/s`, throughput >= 4),
    criterion('blueprint', 'fallback rate', '< 10 %', pct(fallbacks / answered), fallbacks / answered < 0.1),
    criterion('gate', 'fallbacks (all runs)', '= 0', String(fallbacks), fallbacks === 0),
    criterion('gate', 'errors + invalid answers (all runs, daemon and direct)', '= 0', String(errors + invalid + directProblems), errors + invalid + directProblems === 0),
    criterion('gate', 'p95 latency', `≤ upstream p95 (same runs) + 20 = ${(upstreamP95 + 20).toFixed(1)} ms`, ms(p95), p95 <= upstreamP95 + 20),
    criterion('target', 'p95 latency', `≤ configured upstream + 20 = ${up + 20} ms`, ms(p95), p95 <= up + 20),
    criterion('target', 'p99 latency', `≤ upstream p99 (same runs) + 5 = ${(upstreamP99 + 5).toFixed(1)} ms`, ms(p99), p99 <= upstreamP99 + 5),
  ]
  return { options: opts, runs, p50, p95, p99, upstreamP95, upstreamP99, wall, throughput, fallbacks, invalid: invalid + errors, criteria }
}

/** The printed form: per-run figures, upstream traffic, then the criteria. */
export function describeNormalLoad(title: string, res: NormalLoadResult): string {
  const o = res.options
  const lines = [
    `== ${title}: ${o.requests} requests, ${o.uniqueKeys} unique keys, upstream ${o.upstreamMs} ms, concurrency ${o.concurrency}, ${o.runs} run(s)`,
    formatRuns(res.runs.map((r, i) => ({ label: `run ${i + 1}`, report: r.report }))),
    '',
    table(
      ['run', 'upstream requests', 'series sent', 'max in flight', 'max queued', 'upstream alone p50', 'p95', 'p99'],
      res.runs.map((r, i) => [
        `run ${i + 1}`,
        String(r.upstream_requests),
        String(r.upstream_series),
        String(r.state.max_inflight),
        String(r.state.max_queued),
        ms(r.direct.p50),
        ms(r.direct.p95),
        ms(r.direct.p99),
      ]),
    ),
    `("upstream alone": ${DIRECT_CONCURRENCY} single-series requests at a time straight to the simulator during the run; its series/requests are not in the columns before)`,
    '',
    `medians over runs: p50 ${ms(res.p50)}, p95 ${ms(res.p95)}, p99 ${ms(res.p99)}, wall ${ms(res.wall)}; upstream alone (all runs) p95 ${ms(res.upstreamP95)}, p99 ${ms(res.upstreamP99)}`,
    formatCriteria(res.criteria),
  ]
  return lines.join('\n')
}

export function normalLoadJson(res: NormalLoadResult): Record<string, unknown> {
  return {
    options: res.options,
    medians_ms: { p50: round(res.p50), p95: round(res.p95), p99: round(res.p99), wall: round(res.wall), upstream_alone_p95: round(res.upstreamP95), upstream_alone_p99: round(res.upstreamP99) },
    throughput_rps: round(res.throughput),
    fallbacks: res.fallbacks,
    runs: res.runs.map(({ directSamples: _, ...r }) => ({ ...compact(r.report), upstream_alone_ms: { p50: round(r.direct.p50), p95: round(r.direct.p95), p99: round(r.direct.p99), count: r.direct.count }, upstream_requests: r.upstream_requests, upstream_series: r.upstream_series, state: r.state })),
    criteria: res.criteria,
  }
}
