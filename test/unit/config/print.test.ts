import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { DEFAULTS, loadConfig, printConfig, resolveConfig } from '../../../src/config/index.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'
import { thrown } from '../../helpers/thrown.js'

const PYTHON_FILE = fileURLToPath(new URL('../../fixtures/python_tsfm_runtime.yaml', import.meta.url))
const tmp = makeTmpDir()
afterAll(() => tmp.remove())

describe('printConfig', () => {
  it('prints every key under tsfm:, lists in flow style as the blueprint writes them', () => {
    const text = printConfig(DEFAULTS)
    expect(text.startsWith('tsfm:\n  freq: 5m\n  input_len_steps: 288\n  horizon_steps: 12\n  quantiles: [0.1, 0.5, 0.9]\n')).toBe(true)
    expect(text).toContain('\n    enabled_segments: []\n')
    expect(parse(text)).toEqual({ tsfm: DEFAULTS })
  })

  it('round-trips: the printed effective config loads back to an equal config', () => {
    const original = loadConfig({
      file: PYTHON_FILE,
      env: { TSFM_HOST: '127.0.0.3', TSFM_MODEL: '123' },
      overrides: { tsfm: { quantiles: [0.05, 0.5, 0.95], transform: { space: 'identity', eps: 1e-7 } } },
    }).config
    const file = tmp.write('printed.yaml', printConfig(original))
    const reloaded = loadConfig({ file, env: {}, strict: true })
    expect(reloaded.config).toEqual(original)
    expect(reloaded.warnings).toEqual([])
    // A model named "123" stays a string; eps 1e-7 stays a number.
    expect(reloaded.config.adapter.model).toBe('123')
    expect(reloaded.config.transform.eps).toBe(1e-7)
  })

  it('redacts both tokens, and says so next to them', () => {
    const inbound = 'inbound-0123456789abcdef'
    const upstream = 'upstream-0123456789abcdef'
    const text = printConfig(resolveConfig({ tsfm: { server: { api_token: inbound }, adapter: { api_token: upstream } } }).config)
    expect(text).not.toContain(inbound)
    expect(text).not.toContain(upstream)
    const printed = parse(text) as { tsfm: { server: { api_token: unknown }; adapter: { api_token: unknown } } }
    expect(printed.tsfm.server.api_token).toBe('***')
    expect(printed.tsfm.adapter.api_token).toBe('***')
    expect(text).toContain('api_token: "***" # redacted; set it again (e.g. through its environment variable) to use this file\n')
  })

  it('redacts every rotation token and the metrics token', () => {
    const tokens = ['rotation-a-0123456789abcdef', 'rotation-b-0123456789abcdef']
    const scraper = 'scraper-0123456789abcdef'
    const text = printConfig(resolveConfig({ tsfm: { server: { api_tokens: tokens, metrics_token: scraper } } }).config)
    for (const t of [...tokens, scraper]) expect(text).not.toContain(t)
    const printed = parse(text) as { tsfm: { server: { api_tokens: unknown; metrics_token: unknown } } }
    expect(printed.tsfm.server.api_tokens).toEqual(['***', '***'])
    expect(printed.tsfm.server.metrics_token).toBe('***')
  })

  it('prints an unset token as null, which loads back as no token', () => {
    expect(printConfig(DEFAULTS)).toContain('    api_token: null\n')
  })

  it('refuses to load a redacted token as if it were real', () => {
    const text = printConfig(resolveConfig({ tsfm: { server: { api_token: 'inbound-0123456789abcdef' } } }).config)
    const file = tmp.write('redacted.yaml', text)
    expect(thrown(() => loadConfig({ file, env: {} })).message).toBe('tsfm.server.api_token must be a real token, not a placeholder, got "***"')
    expect(loadConfig({ file, env: { TSFM_API_TOKEN: 'inbound-0123456789abcdef' } }).config.server.api_token).toBe('inbound-0123456789abcdef')
  })
})
