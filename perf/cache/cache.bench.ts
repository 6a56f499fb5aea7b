/**
 * Forecast cache at its default bound (50 000 entries): a fresh hit, a miss, and a set that
 * evicts, through ForecastCache (mnemonist LRUMapWithDelete) and through a plain Map used as an
 * LRU by delete + re-insert, side by side; then the whole fresh-hit path for one 288-point
 * request (key + lookup). Hits stride through all 50 000 keys, so they pay for memory, not just
 * for code. Run: node dist/perf/cache/cache.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { LRUMapWithDelete } from 'mnemonist'
import { ForecastCache } from '../../src/cache/forecast-cache.js'
import { cacheKey } from '../../src/cache/key.js'
import { systemClock } from '../../src/clock/clock.js'
import { benchRequest } from './request-fixture.js'

const ENTRIES = 50_000

/** The alternative: Map keeps insertion order, so delete + set moves a key to the young end. */
class MapLru<V> {
  readonly #map = new Map<string, V>()
  readonly #capacity: number

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  get(key: string): V | undefined {
    const v = this.#map.get(key)
    if (v !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, v)
    }
    return v
  }

  set(key: string, value: V): void {
    if (this.#map.has(key)) this.#map.delete(key)
    else if (this.#map.size >= this.#capacity) this.#map.delete(this.#map.keys().next().value as string)
    this.#map.set(key, value)
  }
}

// Keys shaped like real ones (44-character base64). Four times the bound, so by the time the
// eviction benchmark comes back to a key it has long been evicted.
const keys = Array.from({ length: 4 * ENTRIES }, (_, i) => cacheKey(benchRequest(i, 4)))
const absent = Array.from({ length: 1024 }, (_, i) => cacheKey(benchRequest(10_000_000 + i, 4)))

const config = { ttl_s: 3600, max_entries: ENTRIES, stale_while_revalidate_s: 20, stale_if_error_s: 120 }
const hitCache = new ForecastCache<number>(config, systemClock)
// The side-by-side structures hold entry objects too, as ForecastCache does (an entry is one
// more pointer to follow on a hit), and the benches read its time stamp.
interface Entry {
  value: number
  storedAt: number
  revalidating: boolean
}
const entry = (i: number): Entry => ({ value: i, storedAt: systemClock.now(), revalidating: false })
const hitMap = new MapLru<Entry>(ENTRIES)
const hitRaw = new LRUMapWithDelete<string, Entry>(ENTRIES)
for (let i = 0; i < ENTRIES; i++) {
  hitCache.set(keys[i] as string, i)
  hitMap.set(keys[i] as string, entry(i))
  hitRaw.set(keys[i] as string, entry(i))
}
const evictCache = new ForecastCache<number>(config, systemClock)
const evictMap = new MapLru<number>(ENTRIES)
for (let i = 0; i < ENTRIES; i++) {
  evictCache.set(keys[i] as string, i)
  evictMap.set(keys[i] as string, i)
}

group(`fresh hit, ${ENTRIES} entries`, () => {
  summary(() => {
    let i = 0
    bench('ForecastCache.get (LRUMapWithDelete)', () => {
      do_not_optimize(hitCache.get(keys[(i = (i + 7919) % ENTRIES)] as string))
    })
    let j = 0
    bench('Map LRU get (delete + re-insert)', () => {
      do_not_optimize(hitMap.get(keys[(j = (j + 7919) % ENTRIES)] as string)?.storedAt)
    })
    let k = 0
    bench('bare LRUMapWithDelete.get (no clock, no windows)', () => {
      do_not_optimize(hitRaw.get(keys[(k = (k + 7919) % ENTRIES)] as string)?.storedAt)
    })
  })
})

group(`miss, ${ENTRIES} entries`, () => {
  summary(() => {
    let i = 0
    bench('ForecastCache.get', () => do_not_optimize(hitCache.get(absent[i++ & 1023] as string)))
    let j = 0
    bench('Map LRU get', () => do_not_optimize(hitMap.get(absent[j++ & 1023] as string)))
  })
})

group(`set that evicts, ${ENTRIES} entries`, () => {
  summary(() => {
    let i = ENTRIES
    bench('ForecastCache.set', () => {
      evictCache.set(keys[i] as string, i)
      i = i + 1 === keys.length ? 0 : i + 1
    })
    let j = ENTRIES
    bench('Map LRU set', () => {
      evictMap.set(keys[j] as string, j)
      j = j + 1 === keys.length ? 0 : j + 1
    })
  })
})

const req = benchRequest(123)
const reqKey = cacheKey(req)
hitCache.set(reqKey, -1)
group('the whole fresh-hit path for one 288-point request', () => {
  bench('cacheKey + ForecastCache.get', () => do_not_optimize(hitCache.get(cacheKey(req))))
  bench('ForecastCache.get with the key known', () => do_not_optimize(hitCache.get(reqKey)))
})

await run()
