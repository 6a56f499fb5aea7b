import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { packageRoot } from '../../src/paths.js'

/**
 * Saves a compact summary of a mitata run (avg / p50 / p99 in nanoseconds per benchmark) under one
 * section of perf/results/workers.json, so the three worker benchmarks share one file.
 */
interface Trial {
  readonly alias: string
  readonly runs: readonly { readonly name: string; readonly stats: { avg: number; p50: number; p99: number } | undefined }[]
}

export function saveResults(section: string, trials: readonly Trial[], extra: Record<string, unknown> = {}): string {
  const file = join(packageRoot(), 'perf', 'results', 'workers.json')
  mkdirSync(dirname(file), { recursive: true })
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {}
  const rows = trials.flatMap((t) =>
    t.runs.map((r) => ({
      name: r.name,
      avg_ns: r.stats ? Math.round(r.stats.avg) : null,
      p50_ns: r.stats ? Math.round(r.stats.p50) : null,
      p99_ns: r.stats ? Math.round(r.stats.p99) : null,
    })),
  )
  all[section] = { node: process.version, at: new Date().toISOString(), benchmarks: rows, ...extra }
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n')
  return file
}
