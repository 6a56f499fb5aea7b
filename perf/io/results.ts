import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { packageRoot } from '../../src/paths.js'

/** Saves one section of perf/results/io.json (the I/O benchmarks share one file). */
export function saveIoResults(section: string, data: Record<string, unknown>): string {
  const file = join(packageRoot(), 'perf', 'results', 'io.json')
  mkdirSync(dirname(file), { recursive: true })
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {}
  all[section] = { node: process.version, at: new Date().toISOString(), ...data }
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n')
  return file
}
