import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../src/paths.js'
import { ms, pct, type Criterion } from './criteria.js'
import { round } from './percentiles.js'
import { table } from './table.js'
import type { LoadReport } from './tally.js'

/** How the load benchmarks print a run and save their results (`perf/results/<name>.json`). */

function counts(m: Readonly<Record<string, number>>): string {
  const e = Object.entries(m)
  return e.length === 0 ? '-' : e.map(([k, v]) => `${k} ${v}`).join(', ')
}

/** The per-run figures of one or more labelled runs, one row per run. */
export function formatRuns(runs: readonly { readonly label: string; readonly report: LoadReport }[]): string {
  const rows = runs.map(({ label, report: r }) => [
    label,
    String(r.requests),
    ms(r.wall_ms),
    `${r.throughput_rps.toFixed(0)} rps`,
    ms(r.latency_ms.p50),
    ms(r.latency_ms.p95),
    ms(r.latency_ms.p99),
    ms(r.latency_ms.max),
    String(r.success),
    `${r.fallbacks} (${pct(r.fallback_rate)})`,
    String(r.errors + r.invalid),
    pct(r.cache_hit_rate),
  ])
  const out = table(['run', 'requests', 'wall', 'throughput', 'p50', 'p95', 'p99', 'max', 'success', 'fallbacks', 'errors', 'cache hits'], rows)
  const details: string[] = []
  for (const { label, report: r } of runs) {
    const parts: string[] = []
    if (r.fallbacks > 0) parts.push(`fallbacks by reason: ${counts(r.fallbacks_by_reason)}`)
    if (r.errors > 0) parts.push(`errors: ${counts(r.errors_by_kind)}`)
    if (r.invalid > 0) parts.push(`INVALID answers: ${counts(r.invalid_by_problem)}`)
    if (parts.length > 0) details.push(`  ${label}: ${parts.join('; ')}`)
  }
  return details.length === 0 ? out : `${out}\n${details.join('\n')}`
}

export function formatCriteria(rows: readonly Criterion[]): string {
  return table(
    ['source', 'criterion', 'limit', 'measured', 'verdict'],
    rows.map((r) => [r.source, r.name, r.limit, r.measured, r.pass ? 'pass' : 'FAIL']),
  )
}

/** A LoadReport trimmed for JSON (rounded figures). */
export function compact(r: LoadReport): Record<string, unknown> {
  const p = (x: LoadReport['latency_ms']) => ({ count: x.count, p50: round(x.p50), p95: round(x.p95), p99: round(x.p99), max: round(x.max) })
  return {
    ...r,
    latency_ms: p(r.latency_ms),
    latency_upstream_ms: p(r.latency_upstream_ms),
    latency_cache_hit_ms: p(r.latency_cache_hit_ms),
    latency_fallback_ms: p(r.latency_fallback_ms),
    daemon_fallback_ms: p(r.daemon_fallback_ms),
    daemon_upstream_ms: p(r.daemon_upstream_ms),
    latency_by_reason_ms: Object.fromEntries(Object.entries(r.latency_by_reason_ms).map(([k, v]) => [k, p(v)])),
    daemon_by_reason_ms: Object.fromEntries(Object.entries(r.daemon_by_reason_ms).map(([k, v]) => [k, p(v)])),
    daemon_ms: p(r.daemon_ms),
    fallback_rate: round(r.fallback_rate),
    cache_hit_rate: round(r.cache_hit_rate),
  }
}

/** Writes `perf/results/<name>.json` and returns its path. */
export function saveResult(name: string, data: Record<string, unknown>): string {
  const dir = join(packageRoot(), 'perf', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify({ node: process.version, at: new Date().toISOString(), ...data }, null, 2) + '\n')
  return file
}
