import { readFileSync } from 'node:fs'
import { execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { distFile } from '../../src/paths.js'
import { call } from '../helpers/daemon.js'
import { probabilities } from '../helpers/request-bodies.js'
import { closedPort } from '../../perf/load/ports.js'

const run = promisify(execFile)
const CLI = distFile('src/cli.js')

describe('tsfm-runner CLI', () => {
  it('serves with no tollama running: ready, and forecasts from the baseline saying the upstream is unreachable', async () => {
    const upstream = await closedPort()
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: { ...process.env, TSFM_TOLLAMA_URL: `http://127.0.0.1:${upstream}`, TSFM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no listening line')), 15_000)
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const rec = JSON.parse(line) as { event?: string; url?: string }
          if (rec.event === 'listening' && rec.url !== undefined) {
            clearTimeout(t)
            resolve(rec.url)
          }
        })
      })
      expect((await call(url, '/health/ready')).body).toEqual({ status: 'ready' })
      const r = await call(url, '/tsfm/forecast', { body: { market_id: 'm-1', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) } })
      expect(r.status).toBe(200)
      expect(r.body.meta.runtime).toBe('baseline')
      expect(r.body.meta.fallback_reason).toBe('upstream_unavailable')
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 30_000)

  it('prints the effective config as YAML, with env overrides applied and tokens redacted', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'config', 'print'], {
      env: { ...process.env, TSFM_PORT: '9999', TSFM_API_TOKEN: 'a-long-random-token-for-tests-0123' },
    })
    expect(stdout.startsWith('tsfm:\n')).toBe(true)
    expect(stdout).toMatch(/\n {4}port: 9999\n/)
    expect(stdout).not.toContain('a-long-random-token-for-tests-0123')
  })

  it('refuses a bad config value at start-up with the key path and the quoted value, exit 1', async () => {
    const err = await run(process.execPath, [CLI, 'serve'], { env: { ...process.env, TSFM_PORT: 'abc' } }).catch((e: { code: number; stderr: string }) => e)
    expect((err as { code: number }).code).toBe(1)
    expect((err as { stderr: string }).stderr).toContain('tsfm.server.port (from TSFM_PORT) must be an integer in 0..65535, got "abc"')
  })

  it('prints help for each command', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['config', '--help'], ['sim-upstream', '--help'], ['conformal', '--help'], ['conformal', 'fit', '--help']]) {
      const { stdout } = await run(process.execPath, [CLI, ...args])
      expect(stdout).toMatch(/Usage|usage/)
    }
  })

  it('prints its version (package.json) and the Node.js version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      const { stdout } = await run(process.execPath, [CLI, flag])
      expect(stdout).toBe(`tsfm-runner ${version} (node ${process.version})\n`)
    }
  })
})
