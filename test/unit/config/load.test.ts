import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/index.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'
import { thrown } from '../../helpers/thrown.js'

const tmp = makeTmpDir()
afterAll(() => tmp.remove())

describe('the config file', () => {
  it('names file, line and column when the YAML does not parse', () => {
    const file = tmp.write('bad.yaml', 'tsfm:\n  quantiles: [0.1,\n  horizon_steps: 12\n')
    const err = thrown(() => loadConfig({ file, env: {} }))
    expect(err.code).toBe('TSFM_CONFIG_FILE')
    expect(err.message).toBe(`${file}:3:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`)
  })

  it('refuses a key given twice, with its line', () => {
    const file = tmp.write('dup.yaml', 'tsfm:\n  cache:\n    ttl_s: 60\n    ttl_s: 30\n')
    const err = thrown(() => loadConfig({ file, env: {} }))
    expect(err.code).toBe('TSFM_CONFIG_FILE')
    expect(err.message).toBe(`${file}:4:5: invalid YAML: Map keys must be unique`)
  })

  it('refuses a file without the top-level tsfm: key', () => {
    const file = tmp.write('flat.yaml', 'cache:\n  ttl_s: 60\n')
    const err = thrown(() => loadConfig({ file, env: {} }))
    expect(err.code).toBe('TSFM_CONFIG_FILE')
    expect(err.path).toBe('tsfm')
    expect(err.message).toBe(
      `config file ${file} has no top-level "tsfm:" key ` +
        "(both the blueprint layout and the Python service's configs/tsfm_runtime.yaml keep every setting under tsfm:)",
    )
  })

  it('refuses an empty file and a file that is a list', () => {
    const empty = tmp.write('empty.yaml', '# nothing here\n')
    expect(thrown(() => loadConfig({ file: empty, env: {} })).message).toBe(`config file ${empty} is empty; it needs a top-level "tsfm:" key`)
    const list = tmp.write('list.yaml', '- tsfm\n')
    expect(thrown(() => loadConfig({ file: list, env: {} })).message).toBe(
      `config file ${list} must be a YAML mapping with a top-level "tsfm:" key, got ["tsfm"]`,
    )
  })

  it('accepts an empty tsfm: section as "all defaults"', () => {
    const file = tmp.write('bare.yaml', 'tsfm:\n')
    expect(loadConfig({ file, env: {} }).config.freq).toBe('5m')
  })

  it('says when it cannot be read, and where its name came from', () => {
    const missing = join(tmp.dir, 'missing.yaml')
    const direct = thrown(() => loadConfig({ file: missing, env: {} }))
    expect(direct.code).toBe('TSFM_CONFIG_FILE')
    expect(direct.message).toBe(`cannot read config file ${missing}: no such file`)
    expect(thrown(() => loadConfig({ env: { TSFM_CONFIG: missing } })).message).toBe(
      `cannot read config file ${missing} (from TSFM_CONFIG): no such file`,
    )
    expect(thrown(() => loadConfig({ file: tmp.dir, env: {} })).message).toBe(`cannot read config file ${tmp.dir}: it is a directory`)
  })

  it('is reported by its absolute path', () => {
    const file = tmp.write('rel.yaml', 'tsfm: {}\n')
    expect(loadConfig({ file: relative(process.cwd(), file), env: {} }).file).toBe(file)
  })

  it('reads exponent numbers as numbers (YAML 1.2): eps: 1e-3', () => {
    const file = tmp.write('eps.yaml', 'tsfm:\n  transform: {space: identity, eps: 1e-3}\n')
    expect(loadConfig({ file, env: {} }).config.transform).toEqual({ space: 'identity', eps: 0.001 })
  })

  it('passes YAML warnings on, with their line', () => {
    const file = tmp.write('tag.yaml', 'tsfm:\n  adapter:\n    model: !custom chronos2\n')
    const loaded = loadConfig({ file, env: {} })
    expect(loaded.warnings).toEqual([`${file}:3:12: Unresolved tag: !custom`])
    expect(loaded.config.adapter.model).toBe('chronos2')
  })

  it('bounds alias expansion (a "billion laughs" file is refused, not expanded)', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`)
    const file = tmp.write('laughs.yaml', `${lines.join('\n')}\ntsfm: {}\n`)
    const err = thrown(() => loadConfig({ file, env: {} }))
    expect(err.code).toBe('TSFM_CONFIG_FILE')
    expect(err.message).toBe(`${file}: invalid YAML: Excessive alias count indicates a resource exhaustion attack`)
  })
})
