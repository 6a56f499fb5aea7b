import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { packageRoot } from '../../src/paths.js'

interface Trial {
  readonly alias: string
  readonly runs: readonly { readonly name: string; readonly stats: { avg: number; p50: number; p99: number } | undefined }[]
}

/** Saves a compact summary of a mitata run (µs per call) to perf/results/conformal.json. */
export function saveConformalResults(trials: readonly Trial[], extra: Record<string, unknown> = {}, name = 'conformal.json'): string {
  const file = join(packageRoot(), 'perf', 'results', name)
  mkdirSync(dirname(file), { recursive: true })
  const us = (ns: number): number => Math.round(ns) / 1000
  const benchmarks = trials.flatMap((t) => t.runs.map((r) => ({ name: r.name, avg_us: r.stats ? us(r.stats.avg) : null, p50_us: r.stats ? us(r.stats.p50) : null, p99_us: r.stats ? us(r.stats.p99) : null })))
  writeFileSync(file, JSON.stringify({ node: process.version, at: new Date().toISOString(), benchmarks, ...extra }, null, 2) + '\n')
  return file
}
