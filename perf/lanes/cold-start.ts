/**
 * The cold-start penalty and what warm-up saves (issue "upstream lanes", must-show list). The
 * simulator loads a model for 2 s on its first request (`--cold-start 2000`, keep-alive 10 min:
 * longer than the run), serial, 25 ms + 1.2 ms per series. Each scenario starts a fresh
 * simulator and a fresh daemon (stock, `adapter.warmup.enabled` false or true) and sends single
 * forecasts, one at a time, each for a market never seen before:
 *
 *  - `off` / `on`: the first forecast is sent `SETTLE_MS` (3 s) after the daemon listened — and,
 *    with warm-up on, only once the daemon's warm-up request has come back (its
 *    `tollama_latency_ms` count for `/api/forecast` is 1). A trading client that arrives some time
 *    after start-up;
 *  - `off, at once` / `on, at once`: the first forecast is sent the moment the daemon listens
 *    (with warm-up on, while the warm-up's load is still in progress). Reported, not judged.
 *
 * In each: the first forecast (latency, and whether it fell back, with which reason), the next
 * one (sent as soon as the first was answered), then WARM more whose median is the warm latency.
 * The penalty is first − warm median. T1, the upstream's own time for one series with the model
 * loaded, is measured straight at the same simulator afterwards.
 *
 * Criteria: warm-up off, first forecast falls back (the scenario is real: a 2 s load cannot fit a
 * 1.6 s deadline) and the simulator counted one load; warm-up on (after it completed), the first
 * forecast comes from the upstream, within 2 × the warm median, and the simulator counted one
 * load, the warm-up's — i.e. warm-up took the whole penalty off the first forecast.
 *
 * Run: make bench-lanes-cold-start   (node dist/perf/lanes/cold-start.js [--runs N] [--cold-start-ms N])
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { simStats } from '../load/control.js'
import { checkResponse, DEFAULT_HORIZON, DEFAULT_QUANTILES, type Verdict } from '../load/check-answer.js'
import { allPass, criterion, ms, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { median, round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { fetchMetrics, gauge } from '../load/prom-text.js'
import { formatCriteria, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import { table } from '../load/table.js'
import { runPrefix } from '../profiles/normal-load.js'
import { measureShape, TOLLAMA_SHAPE } from './upstream-shape.js'

export const COLD_START = {
  coldStartMs: 2000,
  keepAliveMs: 600_000,
  settleMs: 3000,
  warmupTimeoutMs: 15_000,
  warm: 5,
  maxFirstOverWarm: 2,
  runs: 1,
} as const

export interface Shot {
  readonly ms: number
  readonly verdict: Verdict
}

export interface Scenario {
  readonly name: string
  readonly warmup: boolean
  readonly atOnce: boolean
  /** ms after the daemon listened when the first forecast was sent. */
  readonly sentAfterMs: number
  /** ms after the daemon listened when its warm-up was seen done (null: off, or not seen). */
  readonly warmupDoneMs: number | null
  readonly first: Shot
  readonly next: Shot
  readonly warm: readonly Shot[]
  readonly warmMedianMs: number
  readonly coldStarts: number
  readonly upstreamRequests: number
  readonly t1: number
}

export interface ColdStartResult {
  readonly scenarios: readonly Scenario[]
  readonly criteria: readonly Criterion[]
}

async function forecast(daemon: Child, mix: RequestMix, key: number): Promise<Shot> {
  const t0 = performance.now()
  const res = await request(`${daemon.url}/tsfm/forecast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: mix.body(key), headersTimeout: 30_000, bodyTimeout: 30_000 })
  const text = await res.body.text()
  const elapsed = performance.now() - t0
  return { ms: elapsed, verdict: checkResponse(res.statusCode, text, { marketId: mix.marketId(key), horizon: DEFAULT_HORIZON, quantiles: DEFAULT_QUANTILES }) }
}

/** When the daemon's warm-up request has come back: its first `/api/forecast` in `tollama_latency_ms`. */
async function waitWarmup(daemon: Child, startedAt: number): Promise<number | null> {
  const end = performance.now() + COLD_START.warmupTimeoutMs
  while (performance.now() < end) {
    const count = gauge(await fetchMetrics(daemon.url), 'tollama_latency_ms_count', { endpoint: '/api/forecast' })
    if (count >= 1) return performance.now() - startedAt
    await sleep(50)
  }
  return null
}

async function scenario(warmup: boolean, atOnce: boolean, coldStartMs: number, run: number): Promise<Scenario> {
  const name = `${warmup ? 'on' : 'off'}${atOnce ? ', at once' : ''}`
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator([...TOLLAMA_SHAPE, '--cold-start', String(coldStartMs), '--keep-alive', String(COLD_START.keepAliveMs)])
    const daemon = await group.daemon(benchConfig(sim.url, { adapter: { warmup: { enabled: warmup } } }), `daemon (warm-up ${warmup ? 'on' : 'off'})`)
    const listenedAt = performance.now()
    let warmupDoneMs: number | null = null
    if (!atOnce) {
      if (warmup) warmupDoneMs = await waitWarmup(daemon, listenedAt)
      const wait = listenedAt + COLD_START.settleMs - performance.now()
      if (wait > 0) await sleep(wait)
    }
    const mix = new RequestMix({ prefix: runPrefix(`lanes-cold-${name.replace(/\W+/g, '-')}-${run}`), uniqueKeys: Number.POSITIVE_INFINITY })
    const sentAfterMs = performance.now() - listenedAt
    const first = await forecast(daemon, mix, 0)
    const next = await forecast(daemon, mix, 1)
    const warm: Shot[] = []
    for (let k = 0; k < COLD_START.warm; k++) warm.push(await forecast(daemon, mix, 2 + k))
    if (atOnce && warmup) warmupDoneMs = await waitWarmup(daemon, listenedAt)
    const stats = await simStats(sim.url)
    const t1 = (await measureShape(sim.url, [1], 5)).t[1] as number
    return {
      name,
      warmup,
      atOnce,
      sentAfterMs,
      warmupDoneMs,
      first,
      next,
      warm,
      warmMedianMs: median(warm.map((w) => w.ms)),
      coldStarts: stats.coldStarts,
      upstreamRequests: stats.forecastRequests,
      t1,
    }
  } finally {
    await group.stopAll()
  }
}

function outcome(v: Verdict): string {
  switch (v.kind) {
    case 'success':
      return 'upstream'
    case 'fallback':
      return `fallback ${v.reason}`
    case 'error':
      return `error ${v.what}`
    case 'invalid':
      return `INVALID ${v.problem}`
  }
}

export async function runColdStart(runs: number, coldStartMs: number): Promise<ColdStartResult> {
  const scenarios: Scenario[] = []
  for (let r = 0; r < runs; r++) {
    for (const [warmup, atOnce] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      scenarios.push(await scenario(warmup, atOnce, coldStartMs, r))
    }
  }
  return { scenarios, criteria: judge(scenarios) }
}

function judge(all: readonly Scenario[]): Criterion[] {
  const off = all.filter((s) => !s.warmup && !s.atOnce)
  const on = all.filter((s) => s.warmup && !s.atOnce)
  const list = (ss: readonly Scenario[], f: (s: Scenario) => string): string => ss.map(f).join('; ')
  return [
    criterion('target', 'warm-up off: the first forecast falls back (2 s load > 1.6 s deadline)', 'fallback, each run', list(off, (s) => `${outcome(s.first.verdict)} in ${ms(s.first.ms)}`), off.every((s) => s.first.verdict.kind === 'fallback')),
    criterion('target', 'warm-up off: model loads counted by the simulator', '1 each run', list(off, (s) => String(s.coldStarts)), off.every((s) => s.coldStarts === 1)),
    criterion('target', 'warm-up on: warm-up done before the first forecast', 'each run', list(on, (s) => (s.warmupDoneMs === null ? 'not seen' : `at ${ms(s.warmupDoneMs)}`)), on.every((s) => s.warmupDoneMs !== null)),
    criterion('target', 'warm-up on: the first forecast from the upstream', 'upstream, each run', list(on, (s) => outcome(s.first.verdict)), on.every((s) => s.first.verdict.kind === 'success')),
    criterion(
      'target',
      'warm-up on: first forecast latency / warm median',
      `≤ ${COLD_START.maxFirstOverWarm}×`,
      list(on, (s) => `${ms(s.first.ms)} / ${ms(s.warmMedianMs)} = ${(s.first.ms / s.warmMedianMs).toFixed(2)}×`),
      on.every((s) => s.first.ms / s.warmMedianMs <= COLD_START.maxFirstOverWarm),
    ),
    criterion('target', 'warm-up on: model loads counted by the simulator', "1 each run (the warm-up's)", list(on, (s) => String(s.coldStarts)), on.every((s) => s.coldStarts === 1)),
  ]
}

export function describeColdStart(r: ColdStartResult, coldStartMs: number): string {
  const rows = r.scenarios.map((s) => [
    s.name,
    ms(s.sentAfterMs),
    s.warmupDoneMs === null ? '-' : ms(s.warmupDoneMs),
    `${ms(s.first.ms)} ${outcome(s.first.verdict)}`,
    `${ms(s.next.ms)} ${outcome(s.next.verdict)}`,
    ms(s.warmMedianMs),
    ms(s.first.ms - s.warmMedianMs),
    ms(s.next.ms - s.warmMedianMs),
    ms(s.t1),
    String(s.coldStarts),
  ])
  const byName = (n: string): Scenario[] => r.scenarios.filter((s) => s.name === n)
  const penalty = (ss: Scenario[]): number => median(ss.map((s) => s.first.ms - s.warmMedianMs))
  return [
    `== cold start: simulator ${TOLLAMA_SHAPE.join(' ')} --cold-start ${coldStartMs} --keep-alive ${COLD_START.keepAliveMs}; a fresh simulator and daemon per scenario`,
    table(['warm-up', 'first sent at', 'warm-up done', 'first forecast', 'next', 'warm median', 'penalty (first)', 'penalty (next)', 'T1 (upstream)', 'loads'], rows),
    `penalty of the first forecast (median over runs): warm-up off ${ms(penalty(byName('off')))}, on ${ms(penalty(byName('on')))}; sent at once after start: off ${ms(penalty(byName('off, at once')))}, on ${ms(penalty(byName('on, at once')))}`,
    formatCriteria(r.criteria),
  ].join('\n')
}

function shotJson(s: Shot): Record<string, unknown> {
  const v = s.verdict
  return { ms: round(s.ms), outcome: outcome(v), daemon_ms: v.kind === 'success' || v.kind === 'fallback' ? round(v.daemonMs) : null }
}

export function coldStartJson(r: ColdStartResult, runs: number, coldStartMs: number): Record<string, unknown> {
  return {
    options: { ...COLD_START, runs, coldStartMs },
    scenarios: r.scenarios.map((s) => ({
      name: s.name,
      sent_after_ms: round(s.sentAfterMs),
      warmup_done_ms: s.warmupDoneMs === null ? null : round(s.warmupDoneMs),
      first: shotJson(s.first),
      next: shotJson(s.next),
      warm: s.warm.map(shotJson),
      warm_median_ms: round(s.warmMedianMs),
      penalty_first_ms: round(s.first.ms - s.warmMedianMs),
      penalty_next_ms: round(s.next.ms - s.warmMedianMs),
      t1_ms: round(s.t1),
      cold_starts: s.coldStarts,
      upstream_requests: s.upstreamRequests,
    })),
    criteria: r.criteria,
  }
}

runIfEntry(import.meta.url, 'lanes-cold-start', async (argv) => {
  const runs = intFlag(argv, 'runs', COLD_START.runs)
  const coldStartMs = intFlag(argv, 'cold-start-ms', COLD_START.coldStartMs)
  const res = await runColdStart(runs, coldStartMs)
  console.log(describeColdStart(res, coldStartMs))
  console.log(`saved to ${saveResult('lanes-cold-start', coldStartJson(res, runs, coldStartMs))}`)
  return allPass(res.criteria) ? 0 : 1
})
