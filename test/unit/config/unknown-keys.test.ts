import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, resolveConfig } from '../../../src/config/index.js'
import type { ConfigInput } from '../../../src/config/index.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'
import { thrown } from '../../helpers/thrown.js'

const tmp = makeTmpDir()
afterAll(() => tmp.remove())

function resolve(doc: Record<string, unknown>, strict = false): ReturnType<typeof resolveConfig> {
  return resolveConfig(doc as ConfigInput, { strict })
}

describe('unknown keys', () => {
  it('are a warning that names the key path and suggests the nearest known key', () => {
    const loaded = resolve({ tsfm: { cache: { ttl: 30 } } })
    expect(loaded.warnings).toEqual(['unknown key tsfm.cache.ttl (ignored); did you mean tsfm.cache.ttl_s?'])
    expect(loaded.config.cache.ttl_s).toBe(60)
  })

  it('are an error with --strict-config (TSFM_CONFIG_UNKNOWN_KEY)', () => {
    const err = thrown(() => resolve({ tsfm: { cache: { ttl: 30 } } }, true))
    expect(err.code).toBe('TSFM_CONFIG_UNKNOWN_KEY')
    expect(err.path).toBe('tsfm.cache.ttl')
    expect(err.message).toBe('unknown key tsfm.cache.ttl; did you mean tsfm.cache.ttl_s?')
  })

  it('suggest nothing when no known key is close', () => {
    expect(resolve({ tsfm: { cache: { colour: 'blue' } } }).warnings).toEqual(['unknown key tsfm.cache.colour (ignored)'])
  })

  it('suggest the section a misplaced key belongs to', () => {
    expect(resolve({ tsfm: { base_url: 'http://127.0.0.1:1' } }).warnings).toEqual([
      'unknown key tsfm.base_url (ignored); did you mean tsfm.adapter.base_url?',
    ])
  })

  it('suggest moving a section that sits beside tsfm: instead of under it', () => {
    expect(resolve({ tsfm: {}, server: { port: 1 } }).warnings).toEqual(['unknown key server (ignored); did you mean tsfm.server?'])
  })

  it('know the Python aliases as neighbours too', () => {
    expect(resolve({ tsfm: { circuit_breaker: { half_open_probe_request: 2 } } }).warnings).toEqual([
      'unknown key tsfm.circuit_breaker.half_open_probe_request (ignored); did you mean tsfm.circuit_breaker.half_open_probe_requests?',
    ])
  })

  it('are reported together with invalid values under strict, in the order found', () => {
    const err = thrown(() => resolve({ tsfm: { cache: { ttl: 1, max_entries: 0 } } }, true))
    expect(err.code).toBe('TSFM_CONFIG_UNKNOWN_KEY')
    expect(err.message.split('\n')).toEqual([
      'unknown key tsfm.cache.ttl; did you mean tsfm.cache.ttl_s?',
      'tsfm.cache.max_entries must be a positive integer, got 0',
    ])
  })

  it('include a __proto__ key, which never reaches an object prototype', () => {
    const file = tmp.write('proto.yaml', 'tsfm:\n  cache:\n    __proto__: {ttl_s: 1}\n')
    const loaded = loadConfig({ file, env: {} })
    expect(loaded.warnings).toEqual(['unknown key tsfm.cache.__proto__ (ignored)'])
    expect(loaded.config.cache.ttl_s).toBe(60)
    expect(({} as Record<string, unknown>)['ttl_s']).toBeUndefined()
  })

  it('in a file are errors when TSFM_STRICT_CONFIG is true', () => {
    const file = tmp.write('typo.yaml', 'tsfm:\n  perf:\n    worker_concurency: 8\n')
    expect(loadConfig({ file, env: {} }).warnings).toEqual([
      'unknown key tsfm.perf.worker_concurency (ignored); did you mean tsfm.perf.worker_concurrency?',
    ])
    const err = thrown(() => loadConfig({ file, env: { TSFM_STRICT_CONFIG: 'true' } }))
    expect(err.code).toBe('TSFM_CONFIG_UNKNOWN_KEY')
    expect(err.message).toBe('unknown key tsfm.perf.worker_concurency; did you mean tsfm.perf.worker_concurrency?')
  })
})
