import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InflightLimit, nextLimit, type LimitConfig } from '../../../../../src/io/thread/lane/limiter.js'

const CFG: LimitConfig = { initial: 2, min: 1, max: 32, tolerance: 1.25, queue: 0.25 }

/** A serial upstream: with L requests outstanding the newest waits for the other L − 1. */
function serialRtt(limit: number, noLoad: number): number {
  return limit * noLoad
}

describe('the in-flight limit', () => {
  it('settles at one request at a time on a serial upstream, from any start', () => {
    for (const initial of [1, 2, 8, 32]) {
      const l = new InflightLimit({ ...CFG, initial })
      for (let i = 0; i < 200; i++) l.update({ kind: 'ok', rttMs: serialRtt(l.value, 60), noLoadMs: 60, outstanding: l.value })
      expect(l.value).toBe(1)
    }
  })

  it('grows to its cap on an upstream whose latency stays flat (parallel), within latency noise', () => {
    const l = new InflightLimit(CFG)
    for (let i = 0; i < 200; i++) l.update({ kind: 'ok', rttMs: 60 * (1 + 0.2 * Math.sin(i)), noLoadMs: 60, outstanding: l.value })
    expect(l.value).toBe(32)
  })

  it('does not grow while it is not in use (an upstream answering one request at a time for callers who never send more)', () => {
    const l = new InflightLimit({ ...CFG, initial: 2 })
    for (let i = 0; i < 100; i++) l.update({ kind: 'ok', rttMs: 60, noLoadMs: 60, outstanding: 1 })
    expect(l.value).toBe(2)
  })

  it('halves on a drop (timeout, 5xx, reset), never below its floor', () => {
    const l = new InflightLimit({ ...CFG, initial: 16 })
    l.update({ kind: 'drop' })
    expect(l.value).toBe(8)
    for (let i = 0; i < 10; i++) l.update({ kind: 'drop' })
    expect(l.value).toBe(1)
  })

  it('falls when the upstream slows down under it, and comes back when it recovers', () => {
    const l = new InflightLimit({ ...CFG, initial: 8 })
    // a parallel upstream at 60 ms: the limit climbs
    for (let i = 0; i < 50; i++) l.update({ kind: 'ok', rttMs: 60, noLoadMs: 60, outstanding: l.value })
    const before = l.value
    // four times slower than its no-load cost says: the limit falls
    for (let i = 0; i < 10; i++) l.update({ kind: 'ok', rttMs: 240, noLoadMs: 60, outstanding: l.value })
    expect(l.value).toBeLessThan(before / 4)
    for (let i = 0; i < 100; i++) l.update({ kind: 'ok', rttMs: 60, noLoadMs: 60, outstanding: l.value })
    expect(l.value).toBeGreaterThanOrEqual(before)
  })

  it('always stays within its bounds', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant({ kind: 'drop' as const }), fc.record({ kind: fc.constant('ok' as const), rttMs: fc.double({ min: 0, max: 1e6, noNaN: true }), noLoadMs: fc.double({ min: 0, max: 1e6, noNaN: true }), outstanding: fc.integer({ min: 1, max: 64 }) }))), (samples) => {
        let e = CFG.initial
        for (const s of samples) {
          e = nextLimit(e, s, CFG)
          if (!(e >= CFG.min && e <= CFG.max)) return false
        }
        return true
      }),
    )
  })

  it('refuses bounds that make no sense, quoting them', () => {
    expect(() => new InflightLimit({ ...CFG, min: 0 })).toThrow('got 0..32')
    expect(() => new InflightLimit({ ...CFG, min: 4, max: 2 })).toThrow('got 4..2')
  })
})
