/**
 * The performance gate (`make bench-gate`, run by .ci/run after `make test`). It fails on ratios
 * and on bounds relative to something measured in the same run — never on an absolute time, which
 * a shared 2-core machine cannot promise:
 *  - cycle: a 200-market cycle with multiplexing ≥ 10× faster than without, on equal work (both
 *    serve every market from the tollama-like simulator: 0 fallbacks each side);
 *  - overhead: the stock daemon adds ≤ 2 ms to the p50 of a single-series forecast
 *    over sending the same request straight to the simulator;
 *  - steady, mixed: 0 fallbacks and p95 ≤ the upstream's own p95 + 20 ms, the upstream's measured
 *    in the same runs by requests sent straight to the simulator (perf/load/direct-probe.ts);
 *  - degraded: every answer inside the 1.6 s deadline (20 % hangs + 10 % 503s upstream);
 *  - incident: baseline-only reached within the (time-compressed) 2 minutes, and kept;
 *  - lanes: against tollama's shape (serial, 25 ms + 1.2 ms/series), 32 closed-loop clients get
 *    ≥ 0.8 × CAP = 0.8 × 32/T32 forecasts per second from the upstream with 0 fallbacks and
 *    p99 ≤ 4 × T32, and 200 concurrent forecasts are all served upstream within 2.5 × T200 —
 *    T32 and T200 the upstream's own latency for one 32- and one 200-series request, same run.
 * Each check is the median of ≥ 3 short runs (the mux-off cycle, 8.7 s of serial simulator time
 * that varies < 1 % between runs, 2; the overhead, 5 rounds, and it runs first); a failing check
 * is run once more, after all the others, and judged on that second attempt, so one noisy run does
 * not fail CI but a real regression (failing twice) does. The retry waits for the end because this machine's noise
 * comes in spells: `node dist/perf/gate.js --only overhead` measured 1.0–1.2 ms and 1.7–2.9 ms
 * of added p50 a few minutes apart on one build (a forecast through the daemon wakes four more
 * idle threads than one sent straight to the simulator, and a wake-up's cost is what a busy
 * host changes most), so an immediate retry would often land in the same spell.
 * Prints a table, writes perf/results/gate.json, exits 1 on failure.
 *
 * Run: make bench-gate   (node dist/perf/gate.js [--only cycle,overhead,...])
 */
import { runIfEntry } from '../src/entry.js'
import { runTopN } from './cycle/top-n.js'
import type { Criterion } from './load/criteria.js'
import { saveResult } from './load/report.js'
import { table } from './load/table.js'
import { runOverhead } from './overhead/direct-vs-daemon.js'
import { runDegraded } from './profiles/degraded.js'
import { runIncident } from './profiles/incident.js'
import { runLanes } from './lanes/throughput.js'
import { runMixed } from './profiles/mixed.js'
import { runSteady } from './profiles/steady.js'

interface Check {
  readonly name: string
  /** The check's criteria (its `gate` rows decide; other rows are context). */
  readonly run: () => Promise<readonly Criterion[]>
}

const CHECKS: readonly Check[] = [
  // First: the added latency of a lone request reads higher right after a heavy check (six
  // rounds spread between the other checks of one run: 1.42–2.68 ms, median 2.01; five rounds
  // back to back after a quiet warm-up, minutes later: 1.43 ms), and what it measures is the
  // daemon's path, not the machine's recovery from the previous check.
  { name: 'overhead', run: async () => (await runOverhead({ pairs: 150, rounds: 5, blocks: 0, blockRequests: 0, compareOff: false })).criteria },
  { name: 'cycle', run: async () => (await runTopN({ runsOn: 3, runsOff: 2, singles: false, stockOff: false })).criteria },
  // Upstream lanes against tollama's shape (25 ms + 1.2 ms/series, one request at a time), as
  // ratios to the upstream's own T32/T200 measured in the same run: 32 closed-loop clients for
  // 8 s (≥ 0.8 × CAP from the upstream, 0 fallbacks, p99 ≤ 4 × T32) and 200 concurrent forecasts
  // (200/200 from the upstream, wall ≤ 2.5 × T200), medians of 3 runs.
  { name: 'lanes', run: async () => (await runLanes({ runs: 3, durationMs: 8000, gateOnly: true })).criteria },
  { name: 'steady', run: async () => (await runSteady(3)).criteria },
  { name: 'mixed', run: async () => (await runMixed(3)).criteria },
  { name: 'degraded', run: async () => (await runDegraded(3)).criteria },
  // Held one baseline-only exit window (120 s / 40 = 3 s) to see that it stays.
  { name: 'incident', run: async () => (await runIncident({ holdMs: 3000 })).criteria },
]

interface Attempt {
  readonly ms: number
  readonly rows: readonly Criterion[]
  readonly pass: boolean
  readonly error: string | null
}

async function attempt(check: Check): Promise<Attempt> {
  const t0 = performance.now()
  try {
    const rows = (await check.run()).filter((r) => r.source === 'gate')
    return { ms: performance.now() - t0, rows, pass: rows.every((r) => r.pass), error: null }
  } catch (e) {
    return { ms: performance.now() - t0, rows: [], pass: false, error: e instanceof Error ? e.message : String(e) }
  }
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--only')
  const only = i < 0 ? null : new Set((argv[i + 1] ?? '').split(','))
  const checks = only === null ? CHECKS : CHECKS.filter((c) => only.has(c.name))
  const t0 = performance.now()
  const results: { name: string; attempts: Attempt[] }[] = []
  for (const check of checks) {
    const first = await attempt(check)
    console.log(`gate ${check.name}: ${first.pass ? 'pass' : 'FAIL'} (${(first.ms / 1000).toFixed(1)} s)${first.error === null ? '' : ` — ${first.error}`}`)
    results.push({ name: check.name, attempts: [first] })
  }
  for (const r of results) {
    if ((r.attempts[0] as Attempt).pass) continue
    const check = checks.find((c) => c.name === r.name) as Check
    console.log(`gate ${check.name}: running it once more`)
    const second = await attempt(check)
    r.attempts.push(second)
    console.log(`gate ${check.name}: ${second.pass ? 'pass' : 'FAIL'} on the second attempt (${(second.ms / 1000).toFixed(1)} s)${second.error === null ? '' : ` — ${second.error}`}`)
  }
  const totalS = (performance.now() - t0) / 1000
  const rows: string[][] = []
  for (const r of results) {
    const last = r.attempts[r.attempts.length - 1] as Attempt
    const tries = r.attempts.length === 1 ? '' : ` (attempt ${r.attempts.length})`
    if (last.error !== null) rows.push([r.name, 'ran to completion', '-', last.error.split('\n')[0] as string, `FAIL${tries}`])
    for (const c of last.rows) rows.push([r.name, c.name, c.limit, c.measured, `${c.pass ? 'pass' : 'FAIL'}${tries}`])
  }
  const pass = results.every((r) => (r.attempts[r.attempts.length - 1] as Attempt).pass)
  console.log('')
  console.log(table(['check', 'criterion', 'limit', 'measured', 'verdict'], rows))
  console.log(`\nperformance gate: ${pass ? 'PASS' : 'FAIL'} in ${totalS.toFixed(1)} s`)
  const file = saveResult(only === null ? 'gate' : 'gate-partial', {
    pass,
    total_s: Math.round(totalS * 10) / 10,
    checks: results.map((r) => ({
      name: r.name,
      attempts: r.attempts.map((a) => ({ seconds: Math.round(a.ms / 100) / 10, pass: a.pass, error: a.error, criteria: a.rows })),
    })),
  })
  console.log(`saved to ${file}`)
  return pass ? 0 : 1
}

runIfEntry(import.meta.url, 'bench-gate', main)
