import { describe, expect, it } from 'vitest'
import { ForecastCache } from '../../../src/cache/forecast-cache.js'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import type { CacheConfig } from '../../../src/config/types.js'

const CONFIG: Omit<CacheConfig, 'l2'> = { ttl_s: 60, max_entries: 3, stale_while_revalidate_s: 20, stale_if_error_s: 120 }

function setup(config: Partial<Omit<CacheConfig, 'l2'>> = {}): { cache: ForecastCache<string>; clock: ManualClock } {
  const clock = new ManualClock()
  return { cache: new ForecastCache<string>({ ...CONFIG, ...config }, clock), clock }
}

describe('ForecastCache windows', () => {
  it('answers fresh from storing up to exactly ttl_s', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    expect(cache.get('k')).toEqual({ kind: 'fresh', value: 'v' })
    clock.advance(60_000)
    expect(cache.get('k')).toEqual({ kind: 'fresh', value: 'v' })
  })

  it('answers stale just past ttl_s and asks only the first caller to revalidate', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    clock.advance(60_001)
    expect(cache.get('k')).toEqual({ kind: 'stale', value: 'v', revalidate: true })
    expect(cache.get('k')).toEqual({ kind: 'stale', value: 'v', revalidate: false })
    clock.advance(5_000)
    expect(cache.get('k')).toEqual({ kind: 'stale', value: 'v', revalidate: false })
  })

  it('asks for a new revalidation after the previous one ended without a value', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    clock.advance(61_000)
    expect(cache.get('k')).toMatchObject({ kind: 'stale', revalidate: true })
    cache.endRevalidate('k')
    expect(cache.get('k')).toMatchObject({ kind: 'stale', revalidate: true })
    expect(cache.get('k')).toMatchObject({ kind: 'stale', revalidate: false })
  })

  it('is fresh again once the revalidation stores a new value', () => {
    const { cache, clock } = setup()
    cache.set('k', 'old')
    clock.advance(61_000)
    cache.get('k')
    cache.set('k', 'new')
    expect(cache.get('k')).toEqual({ kind: 'fresh', value: 'new' })
    clock.advance(60_001)
    expect(cache.get('k')).toEqual({ kind: 'stale', value: 'new', revalidate: true })
  })

  it('answers stale up to exactly ttl_s + stale_while_revalidate_s, then miss', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    clock.advance(80_000)
    expect(cache.get('k')).toMatchObject({ kind: 'stale', value: 'v' })
    clock.advance(1)
    expect(cache.get('k')).toEqual({ kind: 'miss' })
  })

  it('serves stale-if-error up to exactly ttl_s + stale_if_error_s, then nothing', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    clock.advance(100_000)
    expect(cache.get('k')).toEqual({ kind: 'miss' })
    expect(cache.getStaleIfError('k')).toBe('v')
    clock.advance(80_000) // age 180 s = ttl + stale_if_error
    expect(cache.getStaleIfError('k')).toBe('v')
    clock.advance(1)
    expect(cache.getStaleIfError('k')).toBeUndefined()
  })

  it('serves stale-if-error from a fresh entry too, and nothing for an unknown key', () => {
    const { cache } = setup()
    cache.set('k', 'v')
    expect(cache.getStaleIfError('k')).toBe('v')
    expect(cache.getStaleIfError('other')).toBeUndefined()
  })

  it('keeps an entry past the stale window while stale-if-error may still use it', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    clock.advance(150_000)
    expect(cache.get('k')).toEqual({ kind: 'miss' })
    expect(cache.size).toBe(1)
    expect(cache.getStaleIfError('k')).toBe('v')
  })

  it('removes an entry that a lookup finds beyond every window', () => {
    const { cache, clock } = setup()
    cache.set('k', 'v')
    clock.advance(180_001)
    expect(cache.get('k')).toEqual({ kind: 'miss' })
    expect(cache.size).toBe(0)
  })

  it('goes straight from fresh to miss when stale_while_revalidate_s is 0', () => {
    const { cache, clock } = setup({ stale_while_revalidate_s: 0 })
    cache.set('k', 'v')
    clock.advance(60_001)
    expect(cache.get('k')).toEqual({ kind: 'miss' })
    expect(cache.getStaleIfError('k')).toBe('v')
  })
})

describe('ForecastCache bound', () => {
  it('evicts the least recently used entry when full', () => {
    const { cache } = setup()
    cache.set('a', 'A')
    cache.set('b', 'B')
    cache.set('c', 'C')
    cache.get('a') // a is now the most recent; b the least
    cache.set('d', 'D')
    expect(cache.size).toBe(3)
    expect(cache.get('b')).toEqual({ kind: 'miss' })
    expect(cache.get('a')).toMatchObject({ kind: 'fresh', value: 'A' })
    expect(cache.get('c')).toMatchObject({ kind: 'fresh', value: 'C' })
    expect(cache.get('d')).toMatchObject({ kind: 'fresh', value: 'D' })
    expect(cache.stats().evictions).toBe(1)
  })

  it('does not reorder entries on a stale-if-error lookup', () => {
    const { cache } = setup()
    cache.set('a', 'A')
    cache.set('b', 'B')
    cache.set('c', 'C')
    cache.getStaleIfError('a')
    cache.set('d', 'D')
    expect(cache.getStaleIfError('a')).toBeUndefined()
    expect(cache.getStaleIfError('b')).toBe('B')
  })

  it('replaces an existing key without evicting anything, and makes it most recent', () => {
    const { cache } = setup()
    cache.set('a', 'A')
    cache.set('b', 'B')
    cache.set('c', 'C')
    cache.set('a', 'A2')
    cache.set('d', 'D') // evicts b, the least recent after a was replaced
    expect(cache.stats().evictions).toBe(1)
    expect(cache.get('a')).toMatchObject({ kind: 'fresh', value: 'A2' })
    expect(cache.get('b')).toEqual({ kind: 'miss' })
  })

  it('holds at most max_entries entries through 200 000 distinct keys', () => {
    const clock = new ManualClock()
    const cache = new ForecastCache<number>({ ...CONFIG, max_entries: 50_000 }, clock)
    for (let i = 0; i < 200_000; i++) {
      cache.set(`key-${i}`, i)
      if (cache.size > 50_000) throw new Error(`size ${cache.size} after ${i + 1} keys`)
    }
    expect(cache.size).toBe(50_000)
    expect(cache.stats().evictions).toBe(150_000)
    expect(cache.get('key-149999')).toEqual({ kind: 'miss' })
    expect(cache.get('key-150000')).toEqual({ kind: 'fresh', value: 150_000 })
    expect(cache.get('key-199999')).toEqual({ kind: 'fresh', value: 199_999 })
  })

  it('deletes one key and clears all, then accepts new entries', () => {
    const { cache } = setup()
    cache.set('a', 'A')
    cache.set('b', 'B')
    expect(cache.delete('a')).toBe(true)
    expect(cache.delete('a')).toBe(false)
    expect(cache.size).toBe(1)
    cache.clear()
    expect(cache.size).toBe(0)
    expect(cache.get('b')).toEqual({ kind: 'miss' })
    for (const k of ['x', 'y', 'z', 'w']) cache.set(k, k)
    expect(cache.size).toBe(3)
    expect(cache.get('w')).toMatchObject({ kind: 'fresh', value: 'w' })
  })

  it('rejects a max_entries that is not a positive integer', () => {
    const clock = new ManualClock()
    expect(() => new ForecastCache({ ...CONFIG, max_entries: 0 }, clock)).toThrow(
      'cache max_entries must be a positive integer, got 0',
    )
    expect(() => new ForecastCache({ ...CONFIG, max_entries: 2.5 }, clock)).toThrow(RangeError)
  })
})

describe('ForecastCache stats', () => {
  it('counts hits, stale answers, misses, evictions and stale-if-error hits', () => {
    const { cache, clock } = setup({ max_entries: 2 })
    cache.get('nothing') // miss
    cache.set('a', 'A')
    cache.get('a') // hit
    cache.get('a') // hit
    clock.advance(70_000)
    cache.get('a') // stale
    cache.get('a') // stale
    clock.advance(20_000)
    cache.get('a') // miss (past the stale window, kept for stale-if-error)
    cache.getStaleIfError('a') // stale-if-error hit
    cache.getStaleIfError('zzz') // not counted
    cache.set('b', 'B')
    cache.set('c', 'C') // evicts a
    expect(cache.stats()).toEqual({
      hits: 2,
      stale: 2,
      misses: 2,
      evictions: 1,
      staleIfErrorHits: 1,
      size: 2,
      maxEntries: 2,
    })
  })
})
