/**
 * PRD2 load profile "incident" (blueprint §5): 70 % adapter failure for 10 minutes; baseline-only
 * within 2 minutes, the cycle still within 60 s. Time-compressed by a factor k (default 40) so it
 * runs in under a minute: every window, cooldown and probe interval of the mode machine and the
 * breaker is the stock value / k, the load is the blueprint's sustained 4 req/s × k (so each
 * window holds as many events as in real time), the incident lasts 10 min / k, and the bound
 * scales alike (baseline-only within 120 s / k). Not compressed: request latencies, timeouts and
 * retry back-off — so the failures are fast ones (5xx, resets), not hangs.
 *
 * Why k = 40 and not more: the mode machine's windows are made of 1 s buckets
 * (src/supervisor/time-window.ts, `bucketMsFor`), so "the last W seconds" holds between W − 1 and
 * W seconds of history. At k = 60 the 1-minute fast-trip window becomes one partly filled bucket:
 * measured, it tripped 0.2 s after the faults began on a "100 %" share of 0.2 s of evidence. At
 * k = 40 it is 2 buckets (1–2 s of history), the shortest window that still means something.
 *
 * Phases: healthy (one degraded-entry window, 180 s / k: the rules can judge as on a long-running
 * daemon) → incident (the simulator fails 70 % of forecast requests; a 200-market cycle is sent
 * once baseline-only is reached) → healed (faults cleared; the runner must find its own way back
 * to normal through its probes). Mode changes come from the daemon's own `mode_transition` log
 * lines (its clock); `GET /tsfm/state` is polled as well, for the queues and the cycle trigger.
 *
 * Run: make bench-incident   (node dist/perf/profiles/incident.js [--compress K])
 */
import { DEFAULTS } from '../../src/config/defaults.js'
import type { DeepPartial, TsfmConfig } from '../../src/config/types.js'
import type { ModeName } from '../../src/response.js'
import { runIfEntry } from '../../src/entry.js'
import { benchConfig } from '../load/bench-config.js'
import { daemonState, postCycle, simFaults, simStats } from '../load/control.js'
import { allPass, criterion, ms, pct, type Criterion } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { Loader } from '../load/loader.js'
import { round } from '../load/percentiles.js'
import { ProcessGroup, type Child } from '../load/processes.js'
import { compact, formatCriteria, formatRuns, saveResult } from '../load/report.js'
import { RequestMix } from '../load/request-mix.js'
import { StateSampler, type StateSample } from '../load/state-sampler.js'
import { table } from '../load/table.js'
import type { LoadReport } from '../load/tally.js'
import { checkCycle, cycleBody, type CycleCheck } from '../cycle/cycle-run.js'
import { runPrefix } from './normal-load.js'

export const INCIDENT = {
  compress: 40,
  /** Blueprint §2: "≥ 4 req/s sustained". */
  realRatePerS: 4,
  upstreamMs: 15,
  /** 70 % of forecast requests fail: 500 (not retried), 503 and resets (retried). */
  faults: { http_500: 0.4, http_503: 0.2, reset: 0.1 },
  realIncidentS: 600,
  realBaselineOnlyBoundS: 120,
  cycleMarkets: 200,
  concurrency: 64,
} as const

/** The stock degradation and breaker timings divided by k. */
export function compressedConfig(k: number): DeepPartial<TsfmConfig> {
  const d = DEFAULTS.degradation
  const b = DEFAULTS.circuit_breaker
  return {
    degradation: {
      degraded_enter_window_s: d.degraded_enter_window_s / k,
      baseline_only_enter_window_s: d.baseline_only_enter_window_s / k,
      fast_trip_window_s: d.fast_trip_window_s / k,
      baseline_only_exit_window_s: d.baseline_only_exit_window_s / k,
      degraded_exit_window_s: d.degraded_exit_window_s / k,
      probe_interval_s: d.probe_interval_s / k,
    },
    circuit_breaker: { window_s: b.window_s / k, cooldown_s: b.cooldown_s / k, max_cooldown_s: b.max_cooldown_s / k },
  }
}

interface Transition {
  readonly from: ModeName
  readonly to: ModeName
  /** Seconds after the faults were injected (daemon clock). */
  readonly at_s: number
  readonly share: number
}

export interface IncidentResult {
  readonly compress: number
  /** Seconds after the injection when the simulator was healed. */
  readonly healed_s: number
  readonly rate_per_s: number
  readonly healthy: LoadReport
  readonly incident: LoadReport
  readonly recovery: LoadReport
  readonly transitions: readonly Transition[]
  readonly to_baseline_only_s: number | null
  /** Transitions between reaching baseline-only and healing (flapping). */
  readonly transitions_during_incident: number
  readonly to_degraded_after_heal_s: number | null
  readonly to_normal_after_heal_s: number | null
  readonly cycle: CycleCheck | null
  readonly sampled: StateSample
  readonly upstream_requests: number
  readonly criteria: readonly Criterion[]
}

/** Epoch ms on the same footing as the daemon's clock (performance.timeOrigin + now). */
function epochNow(): number {
  return performance.timeOrigin + performance.now()
}

function watchTransitions(daemon: Child, sink: { from: ModeName; to: ModeName; at: number; share: number }[]): void {
  daemon.onLine = (line) => {
    if (!line.includes('"mode_transition"')) return
    try {
      const e = JSON.parse(line) as { from: ModeName; to: ModeName; at: number; share: number }
      sink.push({ from: e.from, to: e.to, at: e.at, share: e.share })
    } catch {
      // not a JSON line: ignore
    }
  }
}

export interface IncidentOptions {
  readonly compress?: number
  /**
   * End the incident this long after baseline-only was reached instead of after 10 min / k, and
   * skip the wait for normal after healing (the gate's short form).
   */
  readonly holdMs?: number
}

export async function runIncident(opts: IncidentOptions = {}): Promise<IncidentResult> {
  const k = opts.compress ?? INCIDENT.compress
  const short = opts.holdMs !== undefined
  const rate = INCIDENT.realRatePerS * k
  const d = DEFAULTS.degradation
  const group = new ProcessGroup()
  try {
    const sim = await group.simulator(['--latency-fixed', String(INCIDENT.upstreamMs), '--latency-per-series', '0', '--seed', '7'])
    const daemon = await group.daemon(benchConfig(sim.url, compressedConfig(k)), 'daemon (incident)')
    const seen: { from: ModeName; to: ModeName; at: number; share: number }[] = []
    watchTransitions(daemon, seen)
    const loader = new Loader(daemon.url, INCIDENT.concurrency)
    const sampler = new StateSampler(daemon.url, 25).start()
    try {
      const phase = (durationMs: number): Promise<LoadReport> =>
        loader.run({ mix: new RequestMix({ prefix: runPrefix('incident'), uniqueKeys: Number.POSITIVE_INFINITY }), concurrency: INCIDENT.concurrency, ratePerS: rate, durationMs })

      const healthy = await phase((d.degraded_enter_window_s / k) * 1000)
      const healthyMode = (await daemonState(daemon.url)).mode.mode
      if (healthyMode !== 'normal') throw new Error(`the daemon left normal mode before the incident (${healthyMode}): the healthy phase is broken`)

      await simFaults(sim.url, INCIDENT.faults)
      const injectedAt = epochNow()
      const incidentMs = (INCIDENT.realIncidentS / k) * 1000
      let cycle: CycleCheck | null = null
      const running = phase(incidentMs)
      const reached = await sampler.waitFor('baseline-only', incidentMs)
      if (reached !== null) {
        const body = cycleBody(runPrefix('incident-cycle'), INCIDENT.cycleMarkets, 60_000)
        cycle = checkCycle(await postCycle(daemon.url, body), body)
        if (short) setTimeout(() => loader.stop(), Math.max(0, (opts.holdMs as number) - (performance.now() - reached)))
      }
      const incident = await running
      const healedAt = epochNow()
      await simFaults(sim.url, {})

      let recovery: LoadReport
      if (!short) {
        // Worst case back to normal: the longest breaker cooldown, then both exit windows.
        const limitMs = recoveryBoundS(k) * 1000 * 1.5
        const healing = phase(limitMs)
        void sampler.waitFor('normal', limitMs).then((at) => {
          if (at !== null) loader.stop()
        })
        recovery = await healing
      } else {
        recovery = await phase(0)
      }
      await sampler.poll()
      const stats = await simStats(sim.url)
      const transitions = seen.map((t) => ({ from: t.from, to: t.to, at_s: round((t.at - injectedAt) / 1000), share: round(t.share) }))
      return summarise(k, rate, healthy, incident, recovery, transitions, injectedAt, healedAt, cycle, sampler.stop(), stats.forecastRequests, !short)
    } finally {
      sampler.stop()
      await loader.close()
    }
  } finally {
    await group.stopAll()
  }
}

/** Back to normal at worst after the longest breaker cooldown and both exit windows (seconds). */
export function recoveryBoundS(k: number): number {
  const d = DEFAULTS.degradation
  return (d.baseline_only_exit_window_s + d.degraded_exit_window_s + DEFAULTS.circuit_breaker.max_cooldown_s) / k
}

function summarise(
  k: number,
  rate: number,
  healthy: LoadReport,
  incident: LoadReport,
  recovery: LoadReport,
  transitions: Transition[],
  injectedAt: number,
  healedAt: number,
  cycle: CycleCheck | null,
  sampled: StateSample,
  upstreamRequests: number,
  recover: boolean,
): IncidentResult {
  const healS = (healedAt - injectedAt) / 1000
  const firstTo = (mode: ModeName, afterS: number): number | null => transitions.find((t) => t.to === mode && t.at_s >= afterS)?.at_s ?? null
  const toBaselineOnly = firstTo('baseline-only', 0)
  const during = toBaselineOnly === null ? 0 : transitions.filter((t) => t.at_s > toBaselineOnly && t.at_s < healS).length
  const degradedAt = firstTo('degraded', healS)
  const normalAt = firstTo('normal', healS)
  const toDegraded = degradedAt === null ? null : round(degradedAt - healS)
  const toNormal = normalAt === null ? null : round(normalAt - healS)
  const bound = INCIDENT.realBaselineOnlyBoundS / k
  const deadline = DEFAULTS.adapter.deadline_budget_ms + 50
  const slowest = Math.max(...[healthy, incident, recovery].filter((r) => r.requests > 0).map((r) => r.latency_ms.max))
  const broken = [healthy, incident, recovery].reduce((s, r) => s + r.errors + r.invalid, 0)
  const c = cycle
  const recoveryBound = recoveryBoundS(k)
  const criteria: Criterion[] = [
    criterion('blueprint', `baseline-only auto-switch (×${k} compressed)`, `≤ 120 s / ${k} = ${bound.toFixed(1)} s`, toBaselineOnly === null ? 'never' : `${toBaselineOnly.toFixed(2)} s`, toBaselineOnly !== null && toBaselineOnly <= bound),
    criterion('blueprint', `cycle of ${INCIDENT.cycleMarkets} markets in baseline-only mode`, '≤ 60 s', c === null ? 'not run' : ms(c.wallMs), c !== null && c.wallMs <= 60_000),
    criterion('gate', 'reaches baseline-only within the compressed bound', `≤ ${bound.toFixed(1)} s`, toBaselineOnly === null ? 'never' : `${toBaselineOnly.toFixed(2)} s`, toBaselineOnly !== null && toBaselineOnly <= bound),
    criterion('gate', 'stays in baseline-only until healed (no flapping)', '0 transitions', String(during), toBaselineOnly !== null && during === 0),
    criterion('gate', 'incident cycle: every market answered, none invalid', `${INCIDENT.cycleMarkets} valid`, c === null ? 'not run' : `${c.valid} valid`, c !== null && c.valid === INCIDENT.cycleMarkets),
    criterion('gate', 'slowest answer, client-side', `≤ ${deadline} ms`, ms(slowest), slowest <= deadline),
    criterion('gate', 'errors + invalid answers', '= 0', String(broken), broken === 0),
  ]
  if (recover) {
    criteria.push(
      criterion(
        'target',
        'back to normal after healing (probes only)',
        `≤ ${recoveryBound.toFixed(1)} s (exit windows + longest cooldown)`,
        toNormal === null ? 'never' : `${toNormal.toFixed(2)} s`,
        toNormal !== null && toNormal <= recoveryBound,
      ),
    )
  }
  return {
    compress: k,
    healed_s: round(healS),
    rate_per_s: rate,
    healthy,
    incident,
    recovery,
    transitions,
    to_baseline_only_s: toBaselineOnly,
    transitions_during_incident: during,
    to_degraded_after_heal_s: toDegraded,
    to_normal_after_heal_s: toNormal,
    cycle: c,
    sampled,
    upstream_requests: upstreamRequests,
    criteria,
  }
}

export function describeIncident(res: IncidentResult): string {
  const c = res.cycle
  return [
    `== incident: ×${res.compress} time compression, ${res.rate_per_s} req/s (4 req/s × ${res.compress}), upstream ${INCIDENT.upstreamMs} ms, faults ${Object.entries(INCIDENT.faults).map(([k, v]) => `${k}=${v}`).join(',')} for ${INCIDENT.realIncidentS / res.compress} s`,
    formatRuns([
      { label: 'healthy', report: res.healthy },
      { label: 'incident', report: res.incident },
      { label: 'healed', report: res.recovery },
    ]),
    '',
    `mode transitions (seconds after the faults were injected; healed at ${res.healed_s.toFixed(2)} s):`,
    table(
      ['from', 'to', 'at', 'failure share'],
      res.transitions.map((t) => [t.from, t.to, `${t.at_s.toFixed(2)} s`, pct(t.share)]),
    ),
    c === null ? 'incident cycle: not run (baseline-only never reached)' : `incident cycle: ${c.markets} markets in ${ms(c.wallMs)}, ${c.valid} valid, fallbacks by reason: ${JSON.stringify(c.fallbacksByReason)}`,
    '',
    formatCriteria(res.criteria),
  ].join('\n')
}

export function incidentJson(res: IncidentResult): Record<string, unknown> {
  return {
    options: { ...INCIDENT, compress: res.compress, rate_per_s: res.rate_per_s },
    config: compressedConfig(res.compress),
    transitions: res.transitions,
    healed_s: res.healed_s,
    to_baseline_only_s: res.to_baseline_only_s,
    transitions_during_incident: res.transitions_during_incident,
    to_degraded_after_heal_s: res.to_degraded_after_heal_s,
    to_normal_after_heal_s: res.to_normal_after_heal_s,
    cycle: res.cycle,
    phases: { healthy: compact(res.healthy), incident: compact(res.incident), healed: compact(res.recovery) },
    sampled: res.sampled,
    upstream_requests: res.upstream_requests,
    criteria: res.criteria,
  }
}

runIfEntry(import.meta.url, 'incident', async (argv) => {
  const res = await runIncident({ compress: intFlag(argv, 'compress', INCIDENT.compress) })
  console.log(describeIncident(res))
  console.log(`saved to ${saveResult('incident', incidentJson(res))}`)
  return allPass(res.criteria, 'gate') ? 0 : 1
})
