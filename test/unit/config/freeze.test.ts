import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DEFAULTS, loadConfig, resolveConfig } from '../../../src/config/index.js'
import type { TsfmConfig } from '../../../src/config/index.js'
import { deepFreeze } from '../../../src/config/freeze.js'

const PYTHON_FILE = fileURLToPath(new URL('../../fixtures/python_tsfm_runtime.yaml', import.meta.url))

/** Every key path in order, e.g. `adapter.warmup.models`. */
function shape(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return []
  return Object.entries(value).flatMap(([k, v]) => [prefix + k, ...shape(v, `${prefix}${k}.`)])
}

describe('the validated config', () => {
  it('is deep-frozen: assignment throws (ES modules run in strict mode)', () => {
    const loaded = resolveConfig(undefined)
    const config = loaded.config as unknown as { cache: { ttl_s: number }; quantiles: number[]; adapter: { warmup: { models: string[] } } }
    expect(() => {
      config.cache.ttl_s = 1
    }).toThrow(TypeError)
    expect(() => config.quantiles.push(0.99)).toThrow(TypeError)
    expect(() => config.adapter.warmup.models.push('x')).toThrow(TypeError)
    expect(() => {
      ;(loaded as unknown as { warnings: string[] }).warnings.push('x')
    }).toThrow(TypeError)
    expect(config.cache.ttl_s).toBe(60)
  })

  it('does not keep the caller’s arrays (changing them later changes nothing)', () => {
    const quantiles = [0.2, 0.8]
    const config = resolveConfig({ tsfm: { quantiles } }).config
    quantiles.push(0.9)
    expect(config.quantiles).toEqual([0.2, 0.8])
  })

  it('has one shape, key for key and in order, whatever the input layout', () => {
    const expected = shape(DEFAULTS)
    const configs: TsfmConfig[] = [
      resolveConfig(undefined).config,
      resolveConfig({ tsfm: { cache: { ttl_s: 5 } } }).config,
      loadConfig({ file: PYTHON_FILE, env: { TSFM_PORT: '1' } }).config,
    ]
    for (const c of configs) expect(shape(c)).toEqual(expected)
  })
})

describe('deepFreeze', () => {
  it('freezes nested objects and arrays and returns its argument', () => {
    const value = { a: { b: [1, { c: 2 }] } }
    expect(deepFreeze(value)).toBe(value)
    expect(Object.isFrozen(value.a)).toBe(true)
    expect(Object.isFrozen(value.a.b)).toBe(true)
    expect(Object.isFrozen(value.a.b[1])).toBe(true)
  })
})
