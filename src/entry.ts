import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/**
 * Run `main(argv)` when the module at `moduleUrl` is the process entry point (`node file.js`,
 * or the package bin through its symlink), and set the exit code from its result. Importing the
 * module from elsewhere runs nothing.
 */
export function runIfEntry(moduleUrl: string, name: string, main: (argv: string[]) => Promise<number>): void {
  const entry = process.argv[1]
  if (entry === undefined) return
  let isEntry = false
  try {
    isEntry = moduleUrl === pathToFileURL(realpathSync(entry)).href
  } catch {
    return
  }
  if (!isEntry) return
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (e: unknown) => {
      process.stderr.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exitCode = 1
    },
  )
}
