import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ConfigInput } from '../../src/config/types.js'
import { packageRoot } from '../../src/paths.js'

/**
 * The simulator and the daemon under test run as child processes on 127.0.0.1 port 0, so the load
 * generator, the daemon and the upstream never share an event loop (or a core's turn) by
 * accident — as in production. Each one's first line tells its address: the simulator prints
 * `tsfm-runner sim-upstream listening on http://127.0.0.1:PORT`, the daemon logs a JSON line with
 * `"event":"listening","url":...` (at info level, so bench configs log at info: nothing is
 * logged per request below debug). Their output is drained continuously (a full pipe would
 * stall the child) and the last lines are kept for error messages. Every child is stopped by
 * `ProcessGroup.stopAll()` in a `finally`, and killed if this process exits first.
 */

const SIM_LINE = /^tsfm-runner sim-upstream listening on (http:\/\/127\.0\.0\.1:\d+)\s*$/
const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 5_000
const KEEP_LINES = 200

export interface Child {
  readonly name: string
  readonly url: string
  readonly pid: number
  /** The last lines of stdout and stderr (newest last). */
  readonly lines: readonly string[]
  /** Called with every stdout line after the first (e.g. the daemon's mode transitions). */
  onLine: ((line: string) => void) | null
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL')
  })
}

class RunningChild implements Child {
  readonly name: string
  url = ''
  readonly lines: string[] = []
  onLine: ((line: string) => void) | null = null
  readonly #proc: ChildProcess
  readonly #exited: Promise<void>
  #cleanup: (() => void) | null

  constructor(name: string, proc: ChildProcess, cleanup: (() => void) | null) {
    this.name = name
    this.#proc = proc
    this.#cleanup = cleanup
    this.#exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    live.add(proc)
    void this.#exited.then(() => live.delete(proc))
  }

  get pid(): number {
    return this.#proc.pid ?? -1
  }

  keep(line: string): void {
    this.lines.push(line)
    if (this.lines.length > KEEP_LINES) this.lines.shift()
  }

  async stop(): Promise<void> {
    const proc = this.#proc
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await this.#exited
      clearTimeout(timer)
    }
    this.#cleanup?.()
    this.#cleanup = null
  }
}

function launch(name: string, args: readonly string[], firstLine: (line: string) => string | null, cleanup: (() => void) | null): Promise<Child> {
  installExitHook()
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: packageRoot() })
  const child = new RunningChild(name, proc, cleanup)
  return new Promise<Child>((resolve, reject) => {
    let started = false
    const fail = (why: string): void => {
      if (started) return
      started = true
      clearTimeout(timer)
      void child.stop().then(() => reject(new Error(`${name} did not start: ${why}\n${child.lines.join('\n')}`)))
    }
    const timer = setTimeout(() => fail(`no listening line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS)
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      child.keep(line)
      if (started) {
        child.onLine?.(line)
        return
      }
      const url = firstLine(line)
      if (url === null) return
      started = true
      clearTimeout(timer)
      child.url = url
      resolve(child)
    })
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (line) => child.keep(`[stderr] ${line}`))
    proc.once('error', (e) => fail(e.message))
    proc.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal})`))
  })
}

/** `node dist/src/sim/cli.js --port 0 ...args`. */
export function spawnSimulator(args: readonly string[]): Promise<Child> {
  const cli = join(packageRoot(), 'dist', 'src', 'sim', 'cli.js')
  return launch('simulator', [cli, '--port', '0', ...args], (line) => SIM_LINE.exec(line)?.[1] ?? null, null)
}

/** `node dist/src/cli.js serve --config <tmp file>` with `config` written as JSON (valid YAML). */
export function spawnDaemon(config: ConfigInput, name = 'daemon'): Promise<Child> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfm-bench-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, JSON.stringify(config, null, 2))
  const cli = join(packageRoot(), 'dist', 'src', 'cli.js')
  const listening = (line: string): string | null => {
    if (!line.includes('"listening"')) return null
    try {
      const rec = JSON.parse(line) as { event?: unknown; url?: unknown }
      return rec.event === 'listening' && typeof rec.url === 'string' ? rec.url : null
    } catch {
      return null
    }
  }
  return launch(name, [cli, 'serve', '--config', file], listening, () => rmSync(dir, { recursive: true, force: true }))
}

/** Children of one benchmark; `stopAll()` belongs in a `finally`. */
export class ProcessGroup {
  readonly #children: Child[] = []

  async simulator(args: readonly string[]): Promise<Child> {
    const c = await spawnSimulator(args)
    this.#children.push(c)
    return c
  }

  async daemon(config: ConfigInput, name?: string): Promise<Child> {
    const c = await spawnDaemon(config, name)
    this.#children.push(c)
    return c
  }

  /** Stops one child now (e.g. a daemon whose state must not leak into the next run). */
  async stop(child: Child): Promise<void> {
    const i = this.#children.indexOf(child)
    if (i >= 0) this.#children.splice(i, 1)
    await child.stop()
  }

  async stopAll(): Promise<void> {
    const all = this.#children.splice(0)
    await Promise.all(all.map((c) => c.stop()))
  }
}
