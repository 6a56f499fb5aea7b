import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULTS, ENV_VARS, loadConfig } from '../../../src/config/index.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'
import { thrown } from '../../helpers/thrown.js'

const tmp = makeTmpDir()
afterAll(() => tmp.remove())

const TOKEN_A = 'inbound-0123456789abcdef'
const TOKEN_B = 'upstream-0123456789abcdef'

function valueAt(path: string): unknown {
  let node: unknown = { tsfm: DEFAULTS }
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key]
  return node
}

describe('environment variables', () => {
  it('document at least the variables SPEC §1 names, each with a description', () => {
    const names = ENV_VARS.map((v) => v.name)
    for (const required of ['TSFM_CONFIG', 'TSFM_HOST', 'TSFM_PORT', 'TSFM_TOLLAMA_URL', 'TSFM_MODEL', 'TSFM_API_TOKEN', 'TSFM_LOG_LEVEL', 'TSFM_UPSTREAM_TOKEN', 'TSFM_STRICT_CONFIG']) {
      expect(names).toContain(required)
    }
    for (const v of ENV_VARS) {
      expect(v.description.length).toBeGreaterThan(10)
      if (v.path !== null) expect(valueAt(v.path)).not.toBeUndefined()
    }
  })

  it('each set the key they document', () => {
    const c = loadConfig({
      env: {
        TSFM_HOST: '0.0.0.0',
        TSFM_PORT: '9090',
        TSFM_TOLLAMA_URL: 'http://127.0.0.1:11500',
        TSFM_MODEL: 'timesfm',
        TSFM_API_TOKEN: TOKEN_A,
        TSFM_UPSTREAM_TOKEN: TOKEN_B,
        TSFM_LOG_LEVEL: 'debug',
      },
    }).config
    expect(c.server).toMatchObject({ host: '0.0.0.0', port: 9090, api_token: TOKEN_A })
    expect(c.adapter).toMatchObject({ base_url: 'http://127.0.0.1:11500', model: 'timesfm', api_token: TOKEN_B })
    expect(c.logging.level).toBe('debug')
  })

  it("accept the Python service's TSFM_FORECAST_API_TOKEN, with TSFM_API_TOKEN winning over it", () => {
    expect(loadConfig({ env: { TSFM_FORECAST_API_TOKEN: TOKEN_B } }).config.server.api_token).toBe(TOKEN_B)
    expect(loadConfig({ env: { TSFM_FORECAST_API_TOKEN: TOKEN_B, TSFM_API_TOKEN: TOKEN_A } }).config.server.api_token).toBe(TOKEN_A)
  })

  it.each(['80x', '0x1F', ' 8080', '8_080', '-'])('refuse the port %j, naming the variable and the key', (text) => {
    const err = thrown(() => loadConfig({ env: { TSFM_PORT: text } }))
    expect(err.code).toBe('TSFM_CONFIG_INVALID')
    expect(err.path).toBe('tsfm.server.port')
    expect(err.message).toBe(`tsfm.server.port (from TSFM_PORT) must be an integer in 0..65535, got ${JSON.stringify(text)}`)
  })

  it('parse a number strictly but keep its value', () => {
    expect(loadConfig({ env: { TSFM_PORT: '8081' } }).config.server.port).toBe(8081)
    const err = thrown(() => loadConfig({ env: { TSFM_PORT: '8080.5' } }))
    expect(err.message).toBe('tsfm.server.port (from TSFM_PORT) must be an integer in 0..65535, got 8080.5')
  })

  it('name the variable for a bad URL and a placeholder token', () => {
    const err = thrown(() => loadConfig({ env: { TSFM_TOLLAMA_URL: '127.0.0.1:11435', TSFM_API_TOKEN: 'changeme' } }))
    expect(err.message.split('\n')).toEqual([
      'tsfm.adapter.base_url (from TSFM_TOLLAMA_URL) must be an http(s) URL like "http://127.0.0.1:11435", or a list of 1 to 16 unique ones, got "127.0.0.1:11435"',
      'tsfm.server.api_token (from TSFM_API_TOKEN) must be a real token, not a placeholder, got "changeme"',
    ])
  })

  it('count as unset when empty', () => {
    const loaded = loadConfig({ env: { TSFM_API_TOKEN: '', TSFM_PORT: '', TSFM_CONFIG: '' } })
    expect(loaded.config).toEqual(DEFAULTS)
    expect(loaded.file).toBeNull()
  })

  it('refuse a TSFM_STRICT_CONFIG that is not a boolean', () => {
    const err = thrown(() => loadConfig({ env: { TSFM_STRICT_CONFIG: 'maybe' } }))
    expect(err.path).toBe('TSFM_STRICT_CONFIG')
    expect(err.message).toBe('TSFM_STRICT_CONFIG must be true, false, 1, 0, yes or no, got "maybe"')
  })

  it('name the file to load through TSFM_CONFIG, unless a file is given explicitly', () => {
    const fromEnv = tmp.write('env.yaml', 'tsfm:\n  horizon_steps: 24\n')
    const explicit = tmp.write('explicit.yaml', 'tsfm:\n  horizon_steps: 36\n')
    expect(loadConfig({ env: { TSFM_CONFIG: fromEnv } })).toMatchObject({ file: fromEnv, config: { horizon_steps: 24 } })
    expect(loadConfig({ file: explicit, env: { TSFM_CONFIG: fromEnv } })).toMatchObject({ file: explicit, config: { horizon_steps: 36 } })
  })
})

describe('precedence: defaults < file < env < explicit overrides', () => {
  const file = tmp.write('port.yaml', 'tsfm:\n  server:\n    port: 9000\n    host: 127.0.0.2\n')

  it('takes the file over the defaults', () => {
    expect(loadConfig({ file, env: {} }).config.server).toMatchObject({ port: 9000, host: '127.0.0.2' })
  })

  it('takes the environment over the file, key by key', () => {
    expect(loadConfig({ file, env: { TSFM_PORT: '9100' } }).config.server).toMatchObject({ port: 9100, host: '127.0.0.2' })
  })

  it('takes explicit overrides (CLI flags) over the environment', () => {
    const c = loadConfig({ file, env: { TSFM_PORT: '9100' }, overrides: { tsfm: { server: { port: 9200 } } } }).config
    expect(c.server).toMatchObject({ port: 9200, host: '127.0.0.2' })
  })

  it('parses flags given as text and names the flag in errors', () => {
    const flags = [{ path: 'tsfm.server.port', text: '9300', source: '--port' }]
    expect(loadConfig({ file, env: { TSFM_PORT: '9100' }, textOverrides: flags }).config.server.port).toBe(9300)
    const err = thrown(() => loadConfig({ env: {}, textOverrides: [{ path: 'tsfm.server.port', text: 'http', source: '--port' }] }))
    expect(err.message).toBe('tsfm.server.port (from --port) must be an integer in 0..65535, got "http"')
  })

  it('refuses a text override for a key that does not exist, strict or not', () => {
    const err = thrown(() => loadConfig({ env: {}, textOverrides: [{ path: 'tsfm.server.prot', text: '1', source: '--port' }] }))
    expect(err.code).toBe('TSFM_CONFIG_UNKNOWN_KEY')
    expect(err.message).toBe('unknown key tsfm.server.prot (from --port)')
  })

  it('validates only the effective value: a bad file value that the environment replaces is not an error', () => {
    const bad = tmp.write('bad-port.yaml', 'tsfm:\n  server:\n    port: eighty\n')
    expect(loadConfig({ file: bad, env: { TSFM_PORT: '8088' } }).config.server.port).toBe(8088)
    expect(thrown(() => loadConfig({ file: bad, env: {} })).message).toBe('tsfm.server.port must be an integer in 0..65535, got "eighty"')
  })
})
