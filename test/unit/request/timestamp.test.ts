import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  epochSecondsToMs,
  formatIsoUtc,
  isPlausibleMs,
  newParsedTimestamp,
  parseIsoTimestamp,
  TIMESTAMP_MAX_MS,
} from '../../../src/request/timestamp.js'

const FEB20 = Date.UTC(2026, 1, 20)

function parse(text: string): { ms: number; zoned: boolean } | null {
  const out = newParsedTimestamp()
  return parseIsoTimestamp(text, out) ? { ms: out.ms, zoned: out.zoned } : null
}

describe('parseIsoTimestamp', () => {
  it.each([
    ['2026-02-20T00:00:00Z', FEB20, true],
    ['2026-02-20T00:00Z', FEB20, true],
    ['2026-02-20T00:00', FEB20, false],
    ['2026-02-20 00:00:00', FEB20, false],
    ['2026-02-20T00:00:00.123Z', FEB20 + 123, true],
    ['2026-02-20T00:00:00.5Z', FEB20 + 500, true],
    ['2026-02-20T00:00:00.123999999Z', FEB20 + 123, true],
    ['2026-02-20T00:00:00+00:00', FEB20, true],
    ['2026-02-20T00:00:00-00:00', FEB20, true],
    ['2026-02-20T05:30:00+05:30', FEB20, true],
    ['2026-02-19T19:00:00-05:00', FEB20, true],
    ['2024-02-29T12:00:00Z', Date.UTC(2024, 1, 29, 12), true],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29), true],
    ['1970-01-01T00:00:00Z', 0, true],
    ['2099-12-31T23:59:59.999Z', TIMESTAMP_MAX_MS - 1, true],
  ])('reads %s', (text, ms, zoned) => {
    expect(parse(text)).toEqual({ ms, zoned })
  })

  it.each([
    '',
    '2026-02-20',
    '2026-02-20T00',
    '2026-2-20T00:00:00Z',
    '2026-02-20t00:00:00Z',
    '2026-02-20T00:00:00z',
    '2026-02-20_00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-02-20T24:00:00Z',
    '2026-02-20T23:60:00Z',
    '2026-02-20T23:59:60Z',
    '2026-02-20T00:00:00.Z',
    '2026-02-20T00:00:00.1234567890Z',
    '2026-02-20T00:00:00+0100',
    '2026-02-20T00:00:00+01',
    '2026-02-20T00:00:00+24:00',
    '2026-02-20T00:00:00+01:60',
    '2026-02-20T00:00:00ZZ',
    '2026-02-20T00:00:00Z ',
    ' 2026-02-20T00:00:00Z',
    '+2026-02-20T00:00:00Z',
    'Fri, 20 Feb 2026 00:00:00 GMT',
    '1771545600',
  ])('rejects %j', (text) => {
    expect(parse(text)).toBeNull()
  })

  it('agrees with toISOString on every instant of the plausible range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: TIMESTAMP_MAX_MS - 1 }), (ms) => {
        expect(parse(new Date(ms).toISOString())).toEqual({ ms, zoned: true })
      }),
      { numRuns: 2000 },
    )
  })

  it('agrees with Date.UTC on any valid calendar date, offset applied', () => {
    const stamp = fc.record({
      year: fc.integer({ min: 1000, max: 9999 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      offset: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
    })
    fc.assert(
      fc.property(stamp, ({ year, month, day, hour, minute, offset }) => {
        const p2 = (n: number) => String(n).padStart(2, '0')
        const sign = offset < 0 ? '-' : '+'
        const abs = Math.abs(offset)
        const text = `${year}-${p2(month)}-${p2(day)}T${p2(hour)}:${p2(minute)}${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`
        expect(parse(text)?.ms).toBe(Date.UTC(year, month - 1, day, hour, minute) - offset * 60_000)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('epoch seconds', () => {
  it('round to the millisecond', () => {
    expect(epochSecondsToMs(1771545600)).toBe(FEB20)
    expect(epochSecondsToMs(1771545600.123)).toBe(FEB20 + 123)
  })

  it.each([-1, 4_102_444_800, 1771545600000, Number.NaN, Number.POSITIVE_INFINITY])('reject %d as implausible', (s) => {
    expect(epochSecondsToMs(s)).toBeNaN()
  })

  it('bound the plausible range to [1970, 2100)', () => {
    expect([isPlausibleMs(0), isPlausibleMs(-1), isPlausibleMs(TIMESTAMP_MAX_MS - 1), isPlausibleMs(TIMESTAMP_MAX_MS)]).toEqual([
      true,
      false,
      true,
      false,
    ])
  })
})

describe('formatIsoUtc', () => {
  it('writes whole seconds without milliseconds, as pydantic does', () => {
    expect(formatIsoUtc(FEB20)).toBe('2026-02-20T00:00:00Z')
  })

  it('keeps non-zero milliseconds', () => {
    expect(formatIsoUtc(FEB20 + 250)).toBe('2026-02-20T00:00:00.250Z')
  })
})
