import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { distFile } from '../../../src/paths.js'

/** Needs `npx tsc -p tsconfig.json` first: it runs the compiled CLI like a benchmark would. */

const children: ChildProcessWithoutNullStreams[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

function startCli(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [distFile('src/sim/cli.js'), ...args])
  children.push(child)
  return child
}

function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', (line) => {
      lines.close()
      resolve(line)
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing a line`)))
  })
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

async function collect(child: ChildProcessWithoutNullStreams, stream: 'stdout' | 'stderr'): Promise<string> {
  let out = ''
  for await (const chunk of child[stream]) out += (chunk as Buffer).toString('utf8')
  return out
}

describe('tsfm-runner sim-upstream (compiled CLI)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('prints the listening line first, serves, and stops on %s with code 0', async (signal) => {
    const child = startCli(['--port', '0', '--latency-fixed', '0', '--latency-per-series', '0'])
    const line = await firstLine(child)
    const m = /^tsfm-runner sim-upstream listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line)
    expect(m).not.toBeNull()
    const res = await request(`${m?.[1]}/api/version`)
    expect(await res.body.json()).toEqual({ version: '0.1.0-sim' })
    child.kill(signal)
    expect(await exitCode(child)).toBe(0)
  })

  it('prints the usage on --help, says it is no forecaster, and exits 0', async () => {
    const child = startCli(['--help'])
    const out = await collect(child, 'stdout')
    expect(await exitCode(child)).toBe(0)
    expect(out).toMatch(/^Usage: tsfm-runner sim-upstream \[options\]/)
    expect(out).toContain('NOT a forecaster')
  })

  it('exits 2 with a message naming a bad option', async () => {
    const child = startCli(['--latency-fixed', 'fast'])
    const err = await collect(child, 'stderr')
    expect(await exitCode(child)).toBe(2)
    expect(err).toBe('tsfm-runner sim-upstream: --latency-fixed must be a number, got "fast"\n')
  })

  it('serves the cold start and keep-alive given by --cold-start and --keep-alive', async () => {
    const child = startCli(['--serial', '--latency-fixed', '0', '--latency-per-series', '0', '--cold-start', '40', '--keep-alive', '60000'])
    const url = /listening on (\S+)$/.exec(await firstLine(child))?.[1]
    const answer = async (): Promise<number> => {
      const res = await request(`${url}/v1/forecast`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock',
          horizon: 1,
          series: [{ id: 's', timestamps: ['2026-02-20T00:00:00Z', '2026-02-20T00:05:00Z'], target: [1, 2] }],
        }),
      })
      return ((await res.body.json()) as { timing: { model_load_ms: number } }).timing.model_load_ms
    }
    expect([await answer(), await answer()]).toEqual([40, 0])
    child.kill('SIGTERM')
    expect(await exitCode(child)).toBe(0)
  })

  it('lists --cold-start and --keep-alive in the usage', async () => {
    const child = startCli(['--help'])
    const out = await collect(child, 'stdout')
    expect(await exitCode(child)).toBe(0)
    expect(out).toMatch(/--cold-start MS [\s\S]*?default 0: off\)\n {2}--keep-alive MS /)
    expect(out).toMatch(/--keep-alive MS .*default 300000/)
  })

  it.each([
    [['--cold-start', '-5'], '--cold-start must be a number of milliseconds >= 0, got "-5"'],
    [['--keep-alive=forever'], '--keep-alive must be a number of milliseconds >= 0, got "forever"'],
  ])('exits 2 on %j with a message naming the flag and quoting the value', async (args, message) => {
    const child = startCli(args)
    const err = await collect(child, 'stderr')
    expect(await exitCode(child)).toBe(2)
    expect(err).toBe(`tsfm-runner sim-upstream: ${message}\n`)
  })

  it('exits 2 when an option is out of range', async () => {
    const child = startCli(['--faults', 'hang=2'])
    const err = await collect(child, 'stderr')
    expect(await exitCode(child)).toBe(2)
    expect(err).toBe('tsfm-runner sim-upstream: sim.faults.hang must be a probability in [0, 1], got 2\n')
  })
})
