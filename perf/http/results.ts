import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { packageRoot } from '../../src/paths.js'

/**
 * Saves one section of `perf/results/<file>` (the hot-path benchmarks of one area share a file),
 * stamped with the Node version and the time, so the README can cite the figures it quotes.
 */
export function saveResults(file: string, section: string, data: Record<string, unknown>): string {
  const path = join(packageRoot(), 'perf', 'results', file)
  mkdirSync(dirname(path), { recursive: true })
  const all = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {}
  all[section] = { node: process.version, at: new Date().toISOString(), ...data }
  writeFileSync(path, JSON.stringify(all, null, 2) + '\n')
  return path
}
