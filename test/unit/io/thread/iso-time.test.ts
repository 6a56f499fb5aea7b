import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatIsoUtc } from '../../../../src/io/thread/iso-time.js'

/** The reference: the built-in, with the `.000` of whole seconds dropped. */
function reference(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

describe('formatIsoUtc', () => {
  it('writes whole seconds without milliseconds', () => {
    expect(formatIsoUtc(Date.UTC(2026, 1, 20, 23, 55))).toBe('2026-02-20T23:55:00Z')
  })

  it('keeps milliseconds when there are some', () => {
    expect(formatIsoUtc(Date.UTC(2026, 1, 20, 0, 0, 1, 7))).toBe('2026-02-20T00:00:01.007Z')
  })

  it('handles the epoch, leap days and the turn of a century', () => {
    expect(formatIsoUtc(0)).toBe('1970-01-01T00:00:00Z')
    expect(formatIsoUtc(Date.UTC(2024, 1, 29, 12))).toBe('2024-02-29T12:00:00Z')
    expect(formatIsoUtc(Date.UTC(2000, 1, 29))).toBe('2000-02-29T00:00:00Z')
    expect(formatIsoUtc(Date.UTC(2099, 11, 31, 23, 59, 59))).toBe('2099-12-31T23:59:59Z')
    expect(formatIsoUtc(-1000)).toBe('1969-12-31T23:59:59Z')
  })

  it('agrees with Date#toISOString for every instant of years 0000–9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        expect(formatIsoUtc(ms)).toBe(reference(ms))
      }),
      { numRuns: 5000 },
    )
  })

  it('stays right when consecutive calls alternate between days (the day cache)', () => {
    const a = Date.UTC(2026, 1, 20, 23, 59)
    const b = Date.UTC(2026, 1, 21, 0, 1)
    expect([formatIsoUtc(a), formatIsoUtc(b), formatIsoUtc(a)]).toEqual([reference(a), reference(b), reference(a)])
  })

  it('falls back to the built-in outside four-digit years and for fractional ms', () => {
    const far = Date.UTC(12000, 0, 1)
    expect(formatIsoUtc(far)).toBe(new Date(far).toISOString())
    expect(formatIsoUtc(1.5)).toBe(new Date(1.5).toISOString())
  })
})
