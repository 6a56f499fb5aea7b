import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DayMemo, parseSameDayTimestamp } from '../../../src/request/same-day-timestamps.js'
import { newParsedTimestamp, parseIsoTimestamp } from '../../../src/request/timestamp.js'

type Parsed = { ms: number; zoned: boolean } | null

function general(text: string): Parsed {
  const out = newParsedTimestamp()
  return parseIsoTimestamp(text, out) ? { ms: out.ms, zoned: out.zoned } : null
}

/** Parses `texts` in order through one memo, as `y_ts` validation does. */
function run(texts: readonly string[]): Parsed[] {
  const memo = new DayMemo()
  const out = newParsedTimestamp()
  return texts.map((t) => (parseSameDayTimestamp(t, out, memo) ? { ms: out.ms, zoned: out.zoned } : null))
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

const date = fc.record({
  year: fc.constantFrom(1969, 1970, 2000, 2024, 2025, 2026, 2100, 2400),
  month: fc.oneof(fc.constantFrom(2, 12), fc.integer({ min: 0, max: 13 })),
  day: fc.oneof(fc.constantFrom(1, 20, 28, 29, 31), fc.integer({ min: 0, max: 32 })),
})

const clock = fc.record({
  hour: fc.oneof(fc.constantFrom(0, 23), fc.integer({ min: 0, max: 25 })),
  minute: fc.oneof(fc.constantFrom(0, 5, 55), fc.integer({ min: 0, max: 61 })),
  second: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 61 })),
  sep: fc.constantFrom('T', 'T', 'T', ' ', 't'),
  suffix: fc.constantFrom('Z', 'Z', '', '+00:00', '+01:00', '-00:00', 'z', '.5Z', '+00:0', '+0000'),
  dateIndex: fc.nat(2),
  mutate: fc.option(fc.record({ at: fc.nat(30), ch: fc.constantFrom('0', '9', '-', ':', 'T', 'Z', '+', ' ', '.', 'a', '\u0660') }), { freq: 4 }),
})

/**
 * Runs of timestamps near the fast path's forms — valid ones and every way of being slightly
 * off — on at most three dates, so most points share a day with one before them.
 */
const nearCanonicalRun = fc
  .tuple(fc.array(date, { minLength: 1, maxLength: 3 }), fc.array(clock, { minLength: 1, maxLength: 12 }))
  .map(([dates, clocks]) =>
    clocks.map(({ hour, minute, second, sep, suffix, dateIndex, mutate }) => {
      const { year, month, day } = dates[dateIndex % dates.length] as { year: number; month: number; day: number }
      const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}${sep}${pad(hour)}:${pad(minute)}:${pad(second)}${suffix}`
      if (mutate === null || mutate.at >= text.length) return text
      return text.slice(0, mutate.at) + mutate.ch + text.slice(mutate.at + 1)
    }),
  )

describe('parseSameDayTimestamp', () => {
  it('reads a day of 5-minute points exactly as the general parser does', () => {
    const start = Date.UTC(2026, 1, 19, 22)
    const texts = Array.from({ length: 288 }, (_, i) => `${new Date(start + i * 300_000).toISOString().slice(0, 19)}Z`)
    expect(run(texts)).toEqual(texts.map(general))
    expect(run(texts)[287]).toEqual({ ms: start + 287 * 300_000, zoned: true })
  })

  it.each([
    ['2026-02-20T00:05:00Z', Date.UTC(2026, 1, 20, 0, 5), true],
    ['2026-02-20T00:05:00+00:00', Date.UTC(2026, 1, 20, 0, 5), true],
    ['2026-02-20T00:05:00', Date.UTC(2026, 1, 20, 0, 5), false],
  ])('reads the same-day form %s from the memo', (text, ms, zoned) => {
    expect(run(['2026-02-20T00:00:00Z', text])).toEqual([{ ms: Date.UTC(2026, 1, 20), zoned: true }, { ms, zoned }])
  })

  it.each(['2026-02-20T24:00:00Z', '2026-02-20T00:60:00Z', '2026-02-20T00:00:60Z', '2026-02-20t00:05:00Z', '2026-02-20T00:05:00z', '2026-02-20T00-05:00Z'])(
    'rejects %s even on a day it has seen',
    (text) => {
      expect(run(['2026-02-20T00:00:00Z', text])).toEqual([{ ms: Date.UTC(2026, 1, 20), zoned: true }, null])
    },
  )

  it('leaves a date the general parser refuses to the general parser (2026-02-29)', () => {
    expect(run(['2026-02-28T23:55:00Z', '2026-02-29T00:00:00Z'])).toEqual([{ ms: Date.UTC(2026, 1, 28, 23, 55), zoned: true }, null])
  })

  it('agrees with the general parser on every near-canonical sequence', () => {
    fc.assert(
      fc.property(nearCanonicalRun, (texts) => {
        expect(run(texts)).toEqual(texts.map(general))
      }),
      { numRuns: 3000 },
    )
  })

  it('agrees with the general parser on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.tuple(nearCanonicalRun, fc.array(fc.string({ maxLength: 30 }), { maxLength: 4 })), ([run1, noise]) => {
        const texts = [...run1, ...noise, ...run1]
        expect(run(texts)).toEqual(texts.map(general))
      }),
      { numRuns: 2000 },
    )
  })
})
