import { describe, expect, it } from 'vitest'
import { formatTimestamp, freqAlias, freqStepMs, parseTimestamp } from '../../../src/sim/freq.js'

describe('freqStepMs', () => {
  it.each([
    ['5min', 300_000],
    ['min', 60_000],
    ['15T', 900_000],
    ['1h', 3_600_000],
    ['2H', 7_200_000],
    ['30s', 30_000],
    ['D', 86_400_000],
    ['W-SUN', 604_800_000],
    ['500ms', 500],
  ])('reads the pandas alias %s as %d ms', (freq, ms) => {
    expect(freqStepMs(freq)).toBe(ms)
  })

  it.each(['auto', 'M', 'ME', 'B', '5m', '0min', 'hourly'])('has no fixed step for %s', (freq) => {
    expect(freqStepMs(freq)).toBeNull()
  })
})

describe('freqAlias', () => {
  it.each([
    [300_000, '5min'],
    [60_000, 'min'],
    [3_600_000, 'h'],
    [7_200_000, '2h'],
    [86_400_000, 'D'],
    [604_800_000, 'W'],
    [1000, 's'],
    [1500, '1500ms'],
  ])('names %d ms %s', (ms, alias) => {
    expect(freqAlias(ms)).toBe(alias)
  })
})

describe('parseTimestamp', () => {
  it('reads Z, offsets and naive times (naive as UTC)', () => {
    expect(parseTimestamp('2026-02-20T00:05:00Z')).toEqual({ ms: Date.UTC(2026, 1, 20, 0, 5), zoned: true })
    expect(parseTimestamp('2026-02-20T02:05:00+02:00')).toEqual({ ms: Date.UTC(2026, 1, 20, 0, 5), zoned: true })
    expect(parseTimestamp('2026-02-19T23:05:00-0100')).toEqual({ ms: Date.UTC(2026, 1, 20, 0, 5), zoned: true })
    expect(parseTimestamp('2026-02-20 00:05:00')).toEqual({ ms: Date.UTC(2026, 1, 20, 0, 5), zoned: false })
    expect(parseTimestamp('2026-02-20')).toEqual({ ms: Date.UTC(2026, 1, 20), zoned: false })
    expect(parseTimestamp('2026-02-20T00:00:00.25Z')).toEqual({ ms: Date.UTC(2026, 1, 20, 0, 0, 0, 250), zoned: true })
  })

  it.each(['2026-02-30', '2026-13-01', 'yesterday', '1700000000', '2026-02-20T25:00:00Z'])('refuses %s', (text) => {
    expect(parseTimestamp(text)).toBeNull()
  })
})

describe('formatTimestamp', () => {
  it('writes Z for zoned input and nothing for naive input, milliseconds only when present', () => {
    expect(formatTimestamp(Date.UTC(2026, 1, 20, 23, 55), true)).toBe('2026-02-20T23:55:00Z')
    expect(formatTimestamp(Date.UTC(2026, 1, 20, 23, 55), false)).toBe('2026-02-20T23:55:00')
    expect(formatTimestamp(Date.UTC(2026, 1, 20, 23, 55, 0, 5), true)).toBe('2026-02-20T23:55:00.005Z')
  })
})
