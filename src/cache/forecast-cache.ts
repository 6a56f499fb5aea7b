import { LRUMapWithDelete } from 'mnemonist'
import type { Clock } from '../clock/clock.js'
import type { CacheConfig } from '../config/types.js'

/**
 * The forecast cache (SPEC §3.2): an LRU bounded by `max_entries` (mnemonist's LRUMap, whose
 * pointer arrays are preallocated at construction, so memory is fixed however many distinct
 * keys pass through), with three age windows measured from when an entry was stored:
 *
 *   age ≤ ttl                          fresh  — answer from the cache
 *   ttl < age ≤ ttl + swr              stale  — answer at once, refresh in the background (once)
 *   age ≤ ttl + stale_if_error         usable only when the upstream failed or the breaker is open
 *   beyond every window                dead   — removed when next looked at
 *
 * Stale-while-revalidate hands the refresh to exactly one caller: the first stale lookup gets
 * `revalidate: true` and marks the entry; later stale lookups get `false` until the refresh
 * stores a new value (`set`) or gives up (`endRevalidate`).
 *
 * What is worth storing is the caller's decision (see `isCacheable` in ./policy.ts).
 *
 * Memory: at most `max_entries` values are referenced. (A deleted entry's value stays in
 * mnemonist's value array until the slot is reused, which the same bound covers.)
 */

export type CacheLookup<V> =
  | { readonly kind: 'fresh'; readonly value: V }
  | { readonly kind: 'stale'; readonly value: V; readonly revalidate: boolean }
  | { readonly kind: 'miss' }

export interface CacheStats {
  /** Fresh hits. */
  readonly hits: number
  /** Stale-while-revalidate answers. */
  readonly stale: number
  readonly misses: number
  /** Entries pushed out by the LRU bound (not deletions, not expiries). */
  readonly evictions: number
  /** Successful `getStaleIfError` lookups. */
  readonly staleIfErrorHits: number
  readonly size: number
  readonly maxEntries: number
}

class CacheEntry<V> {
  value: V
  storedAt: number
  revalidating: boolean

  constructor(value: V, storedAt: number) {
    this.value = value
    this.storedAt = storedAt
    this.revalidating = false
  }
}

const MISS: CacheLookup<never> = Object.freeze({ kind: 'miss' })

export class ForecastCache<V> {
  readonly maxEntries: number
  #lru: LRUMapWithDelete<string, CacheEntry<V>>
  readonly #clock: Clock
  readonly #ttlMs: number
  readonly #staleMs: number
  readonly #staleIfErrorMs: number
  /** Past this age no window can use an entry any more. */
  readonly #deadMs: number
  #hits = 0
  #stale = 0
  #misses = 0
  #evictions = 0
  #staleIfErrorHits = 0

  constructor(config: Omit<CacheConfig, 'l2'>, clock: Clock) {
    if (!Number.isInteger(config.max_entries) || config.max_entries < 1) {
      throw new RangeError(`cache max_entries must be a positive integer, got ${String(config.max_entries)}`)
    }
    this.maxEntries = config.max_entries
    this.#lru = new LRUMapWithDelete<string, CacheEntry<V>>(config.max_entries)
    this.#clock = clock
    this.#ttlMs = config.ttl_s * 1000
    this.#staleMs = this.#ttlMs + config.stale_while_revalidate_s * 1000
    this.#staleIfErrorMs = this.#ttlMs + config.stale_if_error_s * 1000
    this.#deadMs = Math.max(this.#staleMs, this.#staleIfErrorMs)
  }

  get size(): number {
    return this.#lru.size
  }

  /**
   * Look `key` up. Finding the entry makes it the most recently used, even when it is only kept
   * for stale-if-error: its request is being made again, so it is worth keeping.
   */
  get(key: string): CacheLookup<V> {
    const entry = this.#lru.get(key)
    if (entry === undefined) {
      this.#misses++
      return MISS
    }
    const age = this.#clock.now() - entry.storedAt
    if (age <= this.#ttlMs) {
      this.#hits++
      return { kind: 'fresh', value: entry.value }
    }
    if (age <= this.#staleMs) {
      this.#stale++
      const revalidate = !entry.revalidating
      entry.revalidating = true
      return { kind: 'stale', value: entry.value, revalidate }
    }
    // Too old to answer with; kept while stale-if-error may still want it.
    if (age > this.#deadMs) this.#lru.delete(key)
    this.#misses++
    return MISS
  }

  /**
   * The value to serve when the upstream failed or the breaker is open: any entry no older than
   * ttl + stale_if_error_s. Does not touch the LRU order (an outage must not reorder the cache).
   */
  getStaleIfError(key: string): V | undefined {
    const entry = this.#lru.peek(key)
    if (entry === undefined) return undefined
    if (this.#clock.now() - entry.storedAt > this.#staleIfErrorMs) return undefined
    this.#staleIfErrorHits++
    return entry.value
  }

  /** Store (or replace) `key`, stamped now; ends any revalidation of it. */
  set(key: string, value: V): void {
    this.setAt(key, value, this.#clock.now())
  }

  /**
   * Store `key` stamped when it was computed (an answer another daemon stored in L2 keeps its
   * age: it is no fresher here than there).
   */
  setAt(key: string, value: V, now: number): void {
    const entry = this.#lru.peek(key)
    if (entry !== undefined) {
      entry.value = value
      entry.storedAt = now
      entry.revalidating = false
      this.#lru.set(key, entry) // promote
      return
    }
    if (this.#lru.size === this.maxEntries) this.#evictions++
    this.#lru.set(key, new CacheEntry(value, now))
  }

  /**
   * The background refresh of `key` ended without a new value (it failed, or its answer was
   * not cacheable): the next stale lookup may try again.
   */
  endRevalidate(key: string): void {
    const entry = this.#lru.peek(key)
    if (entry !== undefined) entry.revalidating = false
  }

  delete(key: string): boolean {
    return this.#lru.delete(key)
  }

  /**
   * Drop every entry. A fresh LRU rather than `LRUMap.clear()`, which only resets its indices and
   * keeps every old value referenced from its value array until the slot is reused.
   */
  clear(): void {
    this.#lru = new LRUMapWithDelete<string, CacheEntry<V>>(this.maxEntries)
  }

  stats(): CacheStats {
    return {
      hits: this.#hits,
      stale: this.#stale,
      misses: this.#misses,
      evictions: this.#evictions,
      staleIfErrorHits: this.#staleIfErrorHits,
      size: this.#lru.size,
      maxEntries: this.maxEntries,
    }
  }
}
