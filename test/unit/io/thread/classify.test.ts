import { describe, expect, it } from 'vitest'
import { ROUTE_MISSING, classifyError, classifyStatus } from '../../../../src/io/thread/classify.js'

describe('classifyStatus', () => {
  it('tells a model 404 from a route 404', () => {
    expect(classifyStatus(404, "model 'chronos2' is not installed")).toEqual({ reason: 'upstream_model_missing', retryable: false })
    expect(classifyStatus(404, 'Not Found')).toBe(ROUTE_MISSING)
    expect(classifyStatus(404, null)).toBe(ROUTE_MISSING)
  })

  it('makes 429, 502, 503 and 504 retryable', () => {
    for (const status of [429, 502, 503, 504]) {
      expect(classifyStatus(status, null)).toEqual({ reason: `upstream_http_${status}`, retryable: true })
    }
  })

  it('does not retry 500, 405 or other 4xx', () => {
    for (const status of [400, 401, 403, 405, 409, 422, 500, 501]) {
      expect(classifyStatus(status, null)).toEqual({ reason: `upstream_http_${status}`, retryable: false })
    }
  })
})

describe('classifyError', () => {
  it('is a timeout when our attempt timer fired, whatever undici raised', () => {
    expect(classifyError(Object.assign(new Error('aborted'), { code: 'UND_ERR_ABORTED' }), true)).toEqual({ reason: 'upstream_timeout', retryable: true })
    expect(classifyError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), true).reason).toBe('upstream_timeout')
  })

  it('is a timeout for undici connect, headers and body timeouts', () => {
    for (const code of ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
      expect(classifyError(Object.assign(new Error('t'), { code }), false).reason).toBe('upstream_timeout')
    }
  })

  it('is upstream_unavailable for refused, reset, closed sockets and anything unknown', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'ENOTFOUND', 'UND_ERR_CLOSED', undefined]) {
      expect(classifyError(Object.assign(new Error('x'), { code }), false)).toEqual({ reason: 'upstream_unavailable', retryable: true })
    }
    expect(classifyError('a string', false).reason).toBe('upstream_unavailable')
    expect(classifyError(null, false).reason).toBe('upstream_unavailable')
  })
})
