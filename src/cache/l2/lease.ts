/**
 * Cluster-wide single-flight in one round trip: the lookup script returns the stored answer, or
 * takes the key's lease (`SET lease NX PX lease_ms`) for the daemon that asked, or says another
 * daemon holds it. Three answers in one EVAL rather than GET then SET NX: a second round trip
 * would add its latency to every miss, and between the two commands another daemon could store
 * the answer (a needless computation) — the script runs atomically in Redis.
 *
 * The lease lapses by itself after `lease_ms`: a daemon that dies holding it delays the others
 * by at most that. A daemon that gives up on a key (its answer is not cacheable) releases the
 * lease only if it still holds it (compare-and-delete: after a lapse another daemon may hold it).
 */

export const LOOKUP_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {3}
`

/** What the lookup script answered (its first element). */
export const LOOKUP_FOUND = 1
export const LOOKUP_LEASED_TO_US = 2
export const LOOKUP_LEASED_TO_OTHER = 3

export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** The Redis keys and channel of one cache key under `prefix`. */
export function valueKey(prefix: string, key: string): string {
  return `${prefix}a:${key}`
}

export function leaseKey(prefix: string, key: string): string {
  return `${prefix}l:${key}`
}

/** The one channel every daemon of the cluster listens on: `<cache key> <entry or nothing>`. */
export function doneChannel(prefix: string): string {
  return `${prefix}done`
}
