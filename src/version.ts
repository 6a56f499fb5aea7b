import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from './paths.js'

let version: string | undefined

/** This package's version, from its package.json (read once). */
export function packageVersion(): string {
  if (version !== undefined) return version
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }
  version = typeof pkg.version === 'string' ? pkg.version : 'unknown'
  return version
}
