import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry } from '../../../../src/cache/l2/codec.js'
import type { ForecastResponse } from '../../../../src/response.js'

function answer(market = 'm-1'): ForecastResponse {
  return {
    market_id: market,
    as_of_ts: '2026-02-20T00:00:00Z',
    freq: '5m',
    horizon_steps: 2,
    quantiles: [0.1, 0.9],
    yhat_q: { '0.1': [0.2, 0.3], '0.9': [0.6, 0.7] },
    meta: { runtime: 'tollama' } as ForecastResponse['meta'],
    conformal_last_step: null,
  }
}

describe('the L2 entry format', () => {
  it('gives back the answer and the time it was computed', () => {
    expect(decodeEntry(encodeEntry(answer(), 1_771_545_600_123.5), 'm-1')).toEqual({ value: answer(), storedAt: 1_771_545_600_123.5 })
  })

  it('reads an entry of another format version as nothing', () => {
    expect(decodeEntry(encodeEntry(answer(), 1).replace(/^tsfm1 /, 'tsfm2 '), 'm-1')).toBeNull()
  })

  it('reads an entry cut short anywhere as nothing', () => {
    const text = encodeEntry(answer(), 1)
    for (let n = 0; n < text.length; n++) expect(decodeEntry(text.slice(0, n), 'm-1')).toBeNull()
  })

  it('reads an answer for another market as nothing', () => {
    expect(decodeEntry(encodeEntry(answer('m-2'), 1), 'm-1')).toBeNull()
  })

  it('reads an answer whose paths are not the horizon long, or not finite, as nothing', () => {
    const short = { ...answer(), yhat_q: { '0.1': [0.2], '0.9': [0.6, 0.7] } }
    const nan = { ...answer(), yhat_q: { '0.1': [0.2, null], '0.9': [0.6, 0.7] } } as unknown as ForecastResponse
    expect(decodeEntry(encodeEntry(short, 1), 'm-1')).toBeNull()
    expect(decodeEntry(encodeEntry(nan, 1), 'm-1')).toBeNull()
  })

  it('never throws on arbitrary text, and serves nothing that is not an entry', () => {
    fc.assert(fc.property(fc.anything(), (v) => decodeEntry(v, 'm-1') === null))
    fc.assert(fc.property(fc.string(), (s) => decodeEntry(`tsfm1 ${s}`, 'm-1') === null))
  })
})
