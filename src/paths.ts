import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Worker threads must load compiled JavaScript (Node 20 cannot run `.ts` in a worker), so thread
 * entry points always resolve into `dist/`, whether the caller runs from `dist/src` (production)
 * or from `src` under vitest. The package root is the nearest folder holding package.json.
 */
let root: string | undefined

export function packageRoot(): string {
  if (root !== undefined) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('tsfm-runner: package.json not found above ' + fileURLToPath(import.meta.url))
    dir = up
  }
  root = dir
  return dir
}

/** Absolute path of a compiled file, e.g. `distFile('workers/math.worker.js')`. */
export function distFile(relative: string): string {
  const file = join(packageRoot(), 'dist', relative)
  if (!existsSync(file)) throw new Error(`tsfm-runner: ${file} is missing; run \`npm run build\` first`)
  return file
}
