import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERRORS, TsfmError, quote } from '../../src/errors.js'
import { packageRoot } from '../../src/paths.js'

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (name.endsWith('.ts')) out.push(path)
  }
  return out
}

const root = packageRoot()
const code = sources(join(root, 'src'))
  .filter((f) => !f.endsWith('errors.ts'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n')
const readme = readFileSync(join(root, 'README.md'), 'utf8')

describe('the error catalogue', () => {
  it.each(Object.keys(ERRORS))('%s has an error status, is raised in src/ and is documented in the README', (name) => {
    const spec = ERRORS[name as keyof typeof ERRORS]
    expect(spec.status).toBeGreaterThanOrEqual(400)
    expect(spec.status).toBeLessThan(600)
    expect(spec.description.length).toBeGreaterThan(10)
    expect(code).toContain(`'${name}'`)
    expect(readme).toContain(`\`${name}\``)
  })

  it('builds errors with the catalogue status and the wire body old and new clients read', () => {
    const e = new TsfmError('TSFM_FREQ', 'freq must look like "5m", got "5min"', 'freq')
    expect(e.status).toBe(400)
    expect(e.toBody()).toEqual({ detail: e.message, error: { code: 'TSFM_FREQ', message: e.message, path: 'freq' } })
  })

  it('quotes values for messages, bounded', () => {
    expect(quote('5min')).toBe('"5min"')
    expect(quote(Number.NaN)).toBe('NaN')
    expect(quote('x'.repeat(10_000))).toHaveLength(80)
  })
})
