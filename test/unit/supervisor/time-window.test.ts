import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TimeWindow, bucketMsFor, type WindowCounts } from '../../../src/supervisor/time-window.js'

const T0 = 1_700_000_000_000

function counts(): WindowCounts {
  return { successes: 0, failures: 0 }
}

describe('TimeWindow', () => {
  it('uses one-second buckets and widens them only beyond 3600 of them', () => {
    expect(bucketMsFor(300_000)).toBe(1000)
    expect(bucketMsFor(3_600_000)).toBe(1000)
    expect(bucketMsFor(7_200_000)).toBe(2000)
    const w = new TimeWindow(300_000)
    expect([w.bucketMs, w.buckets, w.spanMs]).toEqual([1000, 300, 300_000])
  })

  it('rejects a span or a bucket that is not a positive number', () => {
    expect(() => new TimeWindow(0)).toThrow('TimeWindow span should be a positive number of ms, got 0')
    expect(() => new TimeWindow(1000, { bucketMs: Number.NaN })).toThrow('TimeWindow bucket should be a positive number of ms, got NaN')
    expect(() => new TimeWindow(10_000, { trackMs: [20_000] })).toThrow('TimeWindow tracked window should be in (0, 10000] ms, got 20000')
  })

  it('counts successes and failures recorded within the span', () => {
    const w = new TimeWindow(10_000)
    w.record(T0, true)
    w.record(T0 + 500, false)
    w.record(T0 + 4_000, false)
    expect([w.successes(T0 + 4_000), w.failures(T0 + 4_000), w.total(T0 + 4_000)]).toEqual([1, 2, 3])
  })

  it('forgets a bucket once it falls out of the span', () => {
    const w = new TimeWindow(10_000)
    w.record(T0, false)
    w.record(T0 + 1_000, true)
    expect(w.total(T0 + 9_999)).toBe(2)
    expect([w.successes(T0 + 10_000), w.failures(T0 + 10_000)]).toEqual([1, 0])
    expect(w.total(T0 + 11_000)).toBe(0)
  })

  it('forgets everything after an idle gap longer than the span', () => {
    const w = new TimeWindow(10_000)
    for (let i = 0; i < 10; i++) w.record(T0 + i * 1000, false)
    // cockatiel's SamplingBreaker rotates one bucket per push and would still hold 9 failures here
    w.record(T0 + 60_000, true)
    expect([w.successes(T0 + 60_000), w.failures(T0 + 60_000)]).toEqual([1, 0])
  })

  it('counts a time older than the newest bucket in the newest bucket', () => {
    const w = new TimeWindow(10_000)
    w.record(T0 + 5_000, true)
    w.record(T0 + 1_000, false)
    expect(w.failures(T0 + 14_999)).toBe(1)
    expect(w.failures(T0 + 15_000)).toBe(0)
  })

  it('sums only the last W of a longer span', () => {
    const w = new TimeWindow(600_000)
    w.record(T0, false)
    w.record(T0 + 100_000, false)
    w.record(T0 + 119_000, true)
    const now = T0 + 119_500
    expect(w.countSince(now, 60_000, 0, counts())).toEqual({ successes: 1, failures: 1 })
    expect(w.countSince(now, 120_000, 0, counts())).toEqual({ successes: 1, failures: 2 })
    expect(w.countSince(now, 10_000_000, 0, counts())).toEqual({ successes: 1, failures: 2 })
  })

  it('never counts the bucket in which `since` falls, nor any before it', () => {
    const w = new TimeWindow(600_000)
    w.record(T0 + 10_000, false)
    w.record(T0 + 20_000, false) // at the very millisecond of `since` (recorded just before a transition)
    w.record(T0 + 20_700, true) // same bucket as `since`, after it: dropped too (bucket-granular)
    w.record(T0 + 21_000, true)
    const now = T0 + 30_000
    expect(w.countSince(now, 600_000, T0 + 20_000, counts())).toEqual({ successes: 1, failures: 0 })
    expect(w.countSince(now, 600_000, T0 + 20_500, counts())).toEqual({ successes: 1, failures: 0 })
    expect(w.countSince(now, 600_000, T0 + 19_999, counts())).toEqual({ successes: 2, failures: 1 })
  })

  it('reports a failure share, or NaN below the minimum number of events', () => {
    const w = new TimeWindow(60_000)
    for (let i = 0; i < 9; i++) w.record(T0 + i * 100, i % 3 !== 0)
    expect(w.shareSince(T0 + 1_000, 60_000, 0, 10)).toBeNaN()
    w.record(T0 + 1_000, false)
    expect(w.shareSince(T0 + 1_000, 60_000, 0, 10)).toBe(0.4)
    expect(w.shareSince(T0 + 1_000, 60_000, T0 + 1_000, 0)).toBeNaN()
  })

  it('forgets everything on reset', () => {
    const w = new TimeWindow(10_000)
    w.record(T0, true)
    w.record(T0, false)
    w.reset()
    expect(w.total(T0)).toBe(0)
    w.record(T0 + 1, false)
    expect([w.successes(T0 + 1), w.failures(T0 + 1)]).toEqual([0, 1])
  })

  it('answers a tracked window from its running totals, and a window cut by `since` by scanning', () => {
    const w = new TimeWindow(600_000, { trackMs: [60_000, 180_000] })
    for (let s = 0; s < 400; s++) w.record(T0 + s * 1000, s % 4 === 0)
    const now = T0 + 399_000
    expect(w.countSince(now, 60_000, 0, counts())).toEqual({ successes: 15, failures: 45 })
    expect(w.countSince(now, 180_000, 0, counts())).toEqual({ successes: 45, failures: 135 })
    expect(w.countSince(now, 180_000, T0 + 341_500, counts())).toEqual({ successes: 14, failures: 44 }) // buckets 342..399
    expect(w.countSince(now, 120_000, 0, counts())).toEqual({ successes: 30, failures: 90 })
    expect([w.successes(now), w.failures(now)]).toEqual([100, 300])
  })

  it('agrees with a list of timestamps for any sequence of records and reads', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('record' as const), dt: fc.integer({ min: 0, max: 4_000 }), ok: fc.boolean() }),
      fc.record({
        op: fc.constant('read' as const),
        dt: fc.integer({ min: 0, max: 30_000 }),
        win: fc.oneof(fc.constantFrom(3_000, 7_000, 10_000), fc.integer({ min: 1, max: 20_000 })),
        back: fc.integer({ min: 0, max: 25_000 }),
      }),
    )
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 200, size: 'max' }), (steps) => {
        const bucket = 1000
        const w = new TimeWindow(10_000, { bucketMs: bucket, trackMs: [3_000, 7_000, 10_000] })
        const log: { id: number; ok: boolean }[] = []
        let now = T0
        let head = -Infinity
        for (const s of steps) {
          now += s.dt
          head = Math.max(head, Math.floor(now / bucket))
          if (s.op === 'record') {
            w.record(now, s.ok)
            log.push({ id: head, ok: s.ok })
            continue
          }
          const inSpan = log.filter((e) => e.id > head - 10)
          expect(w.total(now)).toBe(inSpan.length)
          expect(w.failures(now)).toBe(inSpan.filter((e) => !e.ok).length)
          const since = now - s.back
          const first = Math.max(head - Math.ceil(s.win / bucket) + 1, head - 9, Math.floor(since / bucket) + 1)
          const inWin = log.filter((e) => e.id >= first && e.id <= head)
          const c = w.countSince(now, s.win, since, counts())
          expect(c).toEqual({ successes: inWin.filter((e) => e.ok).length, failures: inWin.filter((e) => !e.ok).length })
        }
      }),
      { numRuns: 300 },
    )
  })
})
