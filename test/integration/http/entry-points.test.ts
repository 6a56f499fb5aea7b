import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { distFile, packageRoot } from '../../../src/paths.js'

const run = promisify(execFile)
/** `--import` this and any import of fastify fails (a module resolve hook). */
const REFUSE_FASTIFY = join(packageRoot(), 'test/fixtures/http/refuse-fastify.mjs')

/** Run an ES module snippet in a fresh node from the package root (so `tsfm-runner` resolves to this package). */
async function node(script: string, flags: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  distFile('src/index.js') // built?
  try {
    const { stdout, stderr } = await run(process.execPath, [...flags, '--input-type=module', '-e', script], { cwd: packageRoot() })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

/** Prints the module's export names and every fastify file Node's CommonJS loader has loaded. */
const IMPORT_AND_REPORT = (specifier: string): string => `
import { createRequire } from 'node:module'
const m = await import(${JSON.stringify(specifier)})
const cache = Object.keys(createRequire(process.cwd() + '/').cache)
console.log(JSON.stringify({ exports: Object.keys(m), fastify: cache.filter((f) => /[\\\\/]fastify[\\\\/]/.test(f)) }))
`

describe('package entry points', () => {
  it("`import 'tsfm-runner'` loads no fastify (a resolve hook refusing it, and Node's module cache, agree)", async () => {
    const r = await node(IMPORT_AND_REPORT('tsfm-runner'), ['--import', REFUSE_FASTIFY])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { exports: string[]; fastify: string[] }
    expect(out.fastify).toEqual([])
    expect(out.exports).toContain('createRunner')
    expect(out.exports).not.toContain('buildServer')
  })

  it('the same hook does refuse fastify: `tsfm-runner/http` cannot load under it', async () => {
    const r = await node(IMPORT_AND_REPORT('tsfm-runner/http'), ['--import', REFUSE_FASTIFY])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('fastify imported: fastify')
  })

  it('`tsfm-runner/http` exports buildServer', async () => {
    const r = await node(IMPORT_AND_REPORT('tsfm-runner/http'))
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { exports: string[]; fastify: string[] }
    expect(out.exports).toContain('buildServer')
    expect(out.fastify.length).toBeGreaterThan(0)
  })
})
