import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config/index.js'
import type { ConfigInput } from '../../../src/config/index.js'
import { isPlaceholderToken } from '../../../src/config/schema.js'
import { thrown } from '../../helpers/thrown.js'

const REAL = 'k3v9Qz7LmT2xW8pR4yB6'

function withServerToken(api_token: unknown): ReturnType<typeof resolveConfig> {
  return resolveConfig({ tsfm: { server: { api_token } } } as ConfigInput)
}

describe('api tokens', () => {
  it('accept null (no auth) and a real token', () => {
    expect(withServerToken(null).config.server.api_token).toBeNull()
    expect(withServerToken(REAL).config.server.api_token).toBe(REAL)
    expect(resolveConfig({ tsfm: { adapter: { api_token: REAL } } }).config.adapter.api_token).toBe(REAL)
  })

  it.each(['changeme', 'secret', 'token', 'xxx', '<token>', 'CHANGEME', '<your token here>', '${TSFM_API_TOKEN}', 'x'.repeat(32), 'please-changeme-now-1234', '***'])(
    'refuse the placeholder %j with the value quoted',
    (placeholder) => {
      const err = thrown(() => withServerToken(placeholder))
      expect(err.code).toBe('TSFM_CONFIG_INVALID')
      expect(err.path).toBe('tsfm.server.api_token')
      expect(err.message).toBe(`tsfm.server.api_token must be a real token, not a placeholder, got ${JSON.stringify(placeholder)}`)
    },
  )

  it('refuse a token shorter than 16 characters without quoting it (it may be a real, weak secret)', () => {
    const err = thrown(() => resolveConfig({ tsfm: { adapter: { api_token: 'abcdef123456789' } } }))
    expect(err.path).toBe('tsfm.adapter.api_token')
    expect(err.message).toBe('tsfm.adapter.api_token must be null or a token of at least 16 characters, got a string of 15 characters')
    expect(err.message).not.toContain('abcdef')
  })

  it('refuse a token that is not a string', () => {
    const err = thrown(() => withServerToken(1234567890123456))
    expect(err.message).toBe('tsfm.server.api_token must be null or a token of at least 16 characters, got 1234567890123456')
  })

  it('tell real tokens from placeholders', () => {
    expect(isPlaceholderToken(REAL)).toBe(false)
    expect(isPlaceholderToken('my-test-token-for-staging')).toBe(false)
    expect(isPlaceholderToken('$API_TOKEN')).toBe(true)
  })
})
