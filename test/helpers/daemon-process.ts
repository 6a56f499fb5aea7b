import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { distFile } from '../../src/paths.js'
import type { TmpDir } from './tmp-files.js'

/** `tsfm-runner serve` as a real process, its URL, its log lines so far, and its exit. */
export interface DaemonProcess {
  readonly child: ChildProcess
  readonly url: string
  /** Every stdout line, parsed (the daemon logs JSON only). */
  readonly lines: any[]
  /** Exit code (null when killed by a signal) and when it happened (performance.now()). */
  readonly exited: Promise<{ code: number | null; at: number }>
}

export interface DaemonProcessOptions {
  /** Node flags before the script, e.g. `['--import', fixture]`. */
  readonly nodeArgs?: readonly string[]
  readonly env?: Readonly<Record<string, string>>
}

/** Start the daemon with `--config configFile`; resolve once it logs `listening`. */
export function startDaemonProcess(configFile: string, opts: DaemonProcessOptions = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), distFile('src/cli.js'), 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...opts.env },
  })
  const lines: any[] = []
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('daemon did not start')), 15_000)
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const rec = JSON.parse(line) as { event?: string; url?: string }
      lines.push(rec)
      if (rec.event === 'listening' && rec.url !== undefined) {
        clearTimeout(timer)
        resolve({ child, url: rec.url, lines, exited })
      }
    })
    child.once('exit', (code) => reject(new Error(`daemon exited early with ${code}`)))
  })
}

/** Resolves with `promise`'s value, or with `fallback` after `ms`. */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms)
    promise.then((v) => {
      clearTimeout(t)
      resolve(v)
    }, () => {
      clearTimeout(t)
      resolve(fallback)
    })
  })
}

/** A config file in `dir` for a daemon on port 0 in front of `upstream`, rate limit off, plus these keys. */
export function daemonConfig(dir: TmpDir, upstream: string, server: Record<string, number>, adapter: Record<string, number> = {}): string {
  const keys = (o: Record<string, number>): string[] => Object.entries(o).map(([k, v]) => `    ${k}: ${v}`)
  return dir.write(
    `tsfm-${Math.random().toString(36).slice(2)}.yaml`,
    [
      'tsfm:',
      '  adapter:',
      `    base_url: ${upstream}`,
      '    health_interval_s: 0',
      '    warmup: {enabled: false}',
      ...keys(adapter),
      '  server:',
      '    port: 0',
      '    rate_limit: {enabled: false}',
      ...keys(server),
    ].join('\n'),
  )
}
