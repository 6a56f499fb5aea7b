import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { accepts, closedPort } from '../../perf/load/ports.js'

/**
 * A real redis-server for one test file: 127.0.0.1 only, no persistence, on a port nobody was
 * listening on. `stop()` and `start()` again (same port) stand for an outage and a restart;
 * `pause(ms)` makes it unresponsive without closing connections (DEBUG SLEEP).
 */
export interface TestRedis {
  readonly port: number
  readonly url: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Redis answers nothing for `ms` (sent on its own connection; resolves at once). */
  pause(ms: number): Promise<void>
  /** One raw command (inline protocol) on its own connection; resolves with the raw reply. */
  command(line: string): Promise<string>
}

export async function startRedis(): Promise<TestRedis> {
  const port = await closedPort()
  let child: ChildProcess | null = null
  const r: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'], {
        stdio: 'ignore',
      })
      for (let i = 0; i < 200; i++) {
        if (await accepts(port)) return
        await new Promise((ok) => setTimeout(ok, 10))
      }
      throw new Error(`redis-server did not start on port ${port}`)
    },
    async stop() {
      const c = child
      child = null
      if (c === null || c.exitCode !== null) return
      await new Promise<void>((ok) => {
        c.once('exit', () => ok())
        c.kill('SIGKILL')
      })
    },
    async pause(ms: number) {
      // The reply comes only after the sleep: not awaited.
      void r.command(`DEBUG SLEEP ${ms / 1000}`).catch(() => undefined)
      await new Promise((ok) => setTimeout(ok, 5))
    },
    command(line: string) {
      return new Promise<string>((ok, fail) => {
        const s = connect(port, '127.0.0.1', () => s.write(line + '\r\n'))
        s.once('data', (d) => {
          ok(d.toString())
          s.destroy()
        })
        s.once('error', fail)
      })
    },
  }
  await r.start()
  return r
}
