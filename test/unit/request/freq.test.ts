import { describe, expect, it } from 'vitest'
import { TsfmError } from '../../../src/errors.js'
import { FREQ_MAX_MINUTES, freqMinutes, freqStepMs, toPandasFreq } from '../../../src/request/freq.js'

describe('freqMinutes', () => {
  it.each([
    ['1m', 1],
    ['5m', 5],
    ['90m', 90],
    ['1h', 60],
    ['24h', 1440],
    ['168h', 10_080],
    ['10080m', 10_080],
  ])('reads %s as %i minutes', (text, minutes) => {
    expect(freqMinutes(text)).toBe(minutes)
    expect(freqStepMs(text)).toBe(minutes * 60_000)
  })

  it.each(['0m', '-5m', '+5m', '5min', '1d', '', 'm', '5', '05m', '5M', '1H', ' 5m', '5m ', '5.5m', '1e1m', '169h', '10081m', '9999999m'])(
    'rejects %j',
    (text) => {
      expect(freqMinutes(text)).toBe(0)
      expect(freqStepMs(text)).toBe(0)
    },
  )

  it.each([5, null, undefined, ['5m'], { freq: '5m' }])('rejects the non-string %j', (value) => {
    expect(freqMinutes(value)).toBe(0)
  })

  it('caps a step at one week', () => {
    expect(FREQ_MAX_MINUTES).toBe(7 * 24 * 60)
  })
})

describe('toPandasFreq', () => {
  it.each([
    ['5m', '5min'],
    ['1m', '1min'],
    ['90m', '90min'],
    ['60m', '60min'],
    ['1h', '1h'],
    ['12h', '12h'],
  ])('writes %s as %s', (ours, pandas) => {
    expect(toPandasFreq(ours)).toBe(pandas)
  })

  it('throws TSFM_FREQ for an invalid freq, quoting it', () => {
    let error: unknown
    try {
      toPandasFreq('5min')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TsfmError)
    expect((error as TsfmError).code).toBe('TSFM_FREQ')
    expect((error as TsfmError).message).toContain('"5min"')
  })
})
