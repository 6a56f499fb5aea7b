import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ConformalAdjustment } from '../../../src/conformal/adjustment.js'
import { ServedBands } from '../../../src/conformal/served-bands.js'

const T0 = 1_700_000_000_000
const ADJ: ConformalAdjustment = Object.freeze({ target_coverage: 0.8, quantile_level: 0.802, center_shift: 0.01, width_scale: 1.2, sample_size: 500 })

function counters(b: ServedBands): Record<string, number> {
  return { recorded: b.recorded, refreshed: b.refreshed, matched: b.matched, unmatched: b.unmatched, expired: b.expired, evicted: b.evicted, size: b.size }
}

describe('ServedBands', () => {
  it('hands back the raw band, its segment and the adjustment it was served with', () => {
    const b = new ServedBands({ graceMs: 1000 })
    b.record('m1', '2026-01-01T00:00:00Z', T0 + 60_000, 'category=crypto', 0.4, 0.45, 0.5, ADJ, T0)
    expect({ ...b.take('m1', '2026-01-01T00:00:00Z', T0 + 60_500) }).toEqual({ segmentKey: 'category=crypto', low: 0.4, center: 0.45, high: 0.5, applied: ADJ, resolvesAtMs: T0 + 60_000 })
  })

  it('keeps a missing centre and an unadjusted band as null', () => {
    const b = new ServedBands()
    b.record('m1', 'a', T0 + 60_000, null, 0.4, null, 0.5, null, T0)
    expect(b.take('m1', 'a', T0)).toMatchObject({ segmentKey: null, center: null, applied: null })
  })

  it('resolves a band once: a second outcome for it is unmatched', () => {
    const b = new ServedBands()
    b.record('m1', 'a', T0 + 60_000, null, 0.4, 0.45, 0.5, null, T0)
    expect(b.take('m1', 'a', T0 + 60_000)).not.toBeNull()
    expect(b.take('m1', 'a', T0 + 60_000)).toBeNull()
    expect(counters(b)).toMatchObject({ recorded: 1, matched: 1, unmatched: 1, size: 0 })
  })

  it('counts an outcome for a band never served as unmatched, not as an error', () => {
    const b = new ServedBands()
    expect(b.take('nobody', 'a', T0)).toBeNull()
    expect(b.unmatched).toBe(1)
  })

  it('tells (market_id, as_of_ts) pairs apart even when their concatenations agree', () => {
    const b = new ServedBands()
    b.record('m1', '2', T0 + 60_000, null, 0.1, null, 0.2, null, T0)
    b.record('m', '12', T0 + 60_000, null, 0.3, null, 0.4, null, T0)
    expect(b.take('m1', '2', T0)?.low).toBe(0.1)
    expect(b.take('m', '12', T0)?.low).toBe(0.3)
  })

  it('matches an outcome until resolvesAt + grace, and not from then on', () => {
    const b = new ServedBands({ graceMs: 10_000 })
    b.record('m1', 'a', T0 + 60_000, null, 0.4, null, 0.5, null, T0)
    b.record('m2', 'a', T0 + 60_000, null, 0.4, null, 0.5, null, T0)
    expect(b.take('m1', 'a', T0 + 69_999)).not.toBeNull()
    expect(b.take('m2', 'a', T0 + 70_000)).toBeNull()
    expect(counters(b)).toMatchObject({ matched: 1, expired: 1, unmatched: 1, size: 0 })
  })

  it('expires a short-horizon band recorded after a long-horizon one on time (no FIFO blocking)', () => {
    const b = new ServedBands({ graceMs: 0 })
    b.record('week', 'a', T0 + 7 * 86_400_000, null, 0.4, null, 0.5, null, T0)
    for (let i = 0; i < 100; i++) b.record(`hour${i}`, 'a', T0 + 3_600_000, null, 0.4, null, 0.5, null, T0)
    expect(b.expire(T0 + 3_600_000)).toBe(100)
    expect(b.size).toBe(1)
  })

  it('does not keep a band that is already past its expiry when recorded', () => {
    const b = new ServedBands({ graceMs: 1000 })
    expect(b.record('m1', 'a', T0 - 5000, null, 0.4, null, 0.5, null, T0)).toBe(true)
    expect(counters(b)).toMatchObject({ recorded: 1, expired: 1, size: 0 })
  })

  it('treats a re-record of a held key (a cached re-answer) as a refresh, not a second entry', () => {
    const b = new ServedBands()
    expect(b.record('m1', 'a', T0 + 60_000, 's', 0.4, 0.45, 0.5, null, T0)).toBe(true)
    expect(b.record('m1', 'a', T0 + 60_000, 's', 0.41, 0.46, 0.51, ADJ, T0 + 10)).toBe(false)
    expect(counters(b)).toMatchObject({ recorded: 1, refreshed: 1, size: 1 })
    expect(b.take('m1', 'a', T0 + 20)).toMatchObject({ low: 0.41, center: 0.46, high: 0.51, applied: ADJ })
    expect(b.take('m1', 'a', T0 + 20)).toBeNull()
  })

  it('holds at most maxEntries, dropping the band nearest its expiry first', () => {
    const b = new ServedBands({ maxEntries: 3, graceMs: 0 })
    b.record('late', 'a', T0 + 90_000, null, 0.4, null, 0.5, null, T0)
    b.record('soon', 'a', T0 + 10_000, null, 0.4, null, 0.5, null, T0)
    b.record('mid', 'a', T0 + 50_000, null, 0.4, null, 0.5, null, T0)
    b.record('new', 'a', T0 + 60_000, null, 0.4, null, 0.5, null, T0)
    expect(counters(b)).toMatchObject({ recorded: 4, evicted: 1, size: 3 })
    expect(b.take('soon', 'a', T0)).toBeNull()
    expect(['late', 'mid', 'new'].map((m) => b.take(m, 'a', T0) !== null)).toEqual([true, true, true])
  })

  it('rejects a capacity below one and a negative grace', () => {
    expect(() => new ServedBands({ maxEntries: 0 })).toThrow('ServedBands maxEntries should be an integer ≥ 1, got 0')
    expect(() => new ServedBands({ graceMs: -1 })).toThrow('ServedBands graceMs should be ≥ 0, got -1')
  })

  it('agrees with a Map model under any sequence of records, takes and time steps', () => {
    type Op = { kind: 'record'; market: number; asOf: number; resolvesIn: number; low: number } | { kind: 'take'; market: number; asOf: number } | { kind: 'advance'; ms: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('record' as const), market: fc.integer({ min: 0, max: 5 }), asOf: fc.integer({ min: 0, max: 3 }), resolvesIn: fc.integer({ min: -3, max: 20 }).map((s) => s * 1000), low: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('take' as const), market: fc.integer({ min: 0, max: 5 }), asOf: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 10 }).map((s) => s * 500) }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.constantFrom(0, 500, 1000, 3000), fc.array(op, { minLength: 20, maxLength: 300, size: 'max' }), (maxEntries, graceMs, ops) => {
        const b = new ServedBands({ maxEntries, graceMs })
        // The model: key → (expiry, record order, low); expiry and eviction by scanning. Times on
        // a 500 ms grid so that expiries tie often and the tie-break (record order) is exercised.
        const model = new Map<string, { expiresAt: number; seq: number; low: number; resolvesAt: number }>()
        const c = { recorded: 0, refreshed: 0, matched: 0, unmatched: 0, expired: 0, evicted: 0 }
        let now = T0
        let seq = 0
        const expire = (): void => {
          for (const [k, e] of model) {
            if (e.expiresAt > now) continue
            model.delete(k)
            c.expired++
          }
        }
        for (const o of ops) {
          if (o.kind === 'advance') {
            now += o.ms
            continue
          }
          const key = `${o.market}/${o.asOf}`
          if (o.kind === 'record') {
            expire()
            const resolvesAt = now + o.resolvesIn
            const expiresAt = resolvesAt + graceMs
            const held = model.get(key)
            const isNew = b.record(String(o.market), String(o.asOf), resolvesAt, null, o.low, null, o.low + 0.1, null, now)
            expect(isNew).toBe(held === undefined)
            if (held !== undefined) {
              c.refreshed++
              if (expiresAt <= now) {
                model.delete(key)
                c.expired++
              } else Object.assign(held, { expiresAt, low: o.low, resolvesAt })
            } else {
              c.recorded++
              if (expiresAt <= now) c.expired++
              else {
                if (model.size === maxEntries) {
                  let victim: string | undefined
                  for (const [k, e] of model) {
                    const v = victim === undefined ? undefined : model.get(victim)
                    if (v === undefined || e.expiresAt < v.expiresAt || (e.expiresAt === v.expiresAt && e.seq < v.seq)) victim = k
                  }
                  model.delete(victim as string)
                  c.evicted++
                }
                model.set(key, { expiresAt, seq: seq++, low: o.low, resolvesAt })
              }
            }
          } else {
            expire()
            const want = model.get(key)
            const got = b.take(String(o.market), String(o.asOf), now)
            if (want === undefined) {
              expect(got).toBeNull()
              c.unmatched++
            } else {
              expect(got).toMatchObject({ low: want.low, resolvesAtMs: want.resolvesAt })
              model.delete(key)
              c.matched++
            }
          }
          expect(counters(b)).toEqual({ ...c, size: model.size })
          expect(b.recorded).toBe(b.matched + b.expired + b.evicted + b.size)
        }
      }),
      { numRuns: 200 },
    )
  })
})
