import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { packageRoot } from '../../../src/paths.js'

const run = promisify(execFile)
const root = packageRoot()
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

/**
 * The package as a user gets it: `npm pack`, installed into a scratch project (its dependencies
 * from npm's cache when it has them), the README's embedding example type-checked as a bundler
 * project with `skipLibCheck: false` (our .d.ts must compile in a consumer, fastify's types
 * included) and run with node.
 */
describe('the packed tarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfm-tarball-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('installs, type-checks and runs the embedding example in a consumer project', { timeout: 240_000 }, async () => {
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, timeout: 120_000 })
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
    expect(tarball).toBeDefined()
    const consumer = join(dir, 'consumer')
    await run('mkdir', ['-p', consumer])
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball as string)], { cwd: consumer, timeout: 180_000 })
    copyFileSync(join(root, 'docs', 'examples', 'embedding.ts'), join(consumer, 'main.ts'))
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          strict: true,
          skipLibCheck: false,
          outDir: '.',
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['main.ts'],
      }),
    )
    await run(process.execPath, [tsc, '-p', consumer], { cwd: consumer, timeout: 120_000 })
    const { stdout } = await run(process.execPath, [join(consumer, 'main.js')], { cwd: consumer, timeout: 60_000 })
    expect(stdout).toMatch(/^tollama 12 null$/m)
    expect(stdout).toMatch(/^closed$/m)
  })
})
