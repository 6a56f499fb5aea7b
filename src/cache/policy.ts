import { isGateReason } from '../reasons.js'

/**
 * Which answers the forecast cache may store (SPEC §3.2): answers computed from the upstream,
 * and deterministic gate answers (the same request always takes the same gate). Never an answer
 * that fell back because of the runtime's circumstances — an upstream failure, a deadline, a
 * queue timeout, a full mailbox, the breaker, the mode, a spent cycle budget, a baseline error,
 * or a stale-if-error answer: caching those would keep serving an outage's answer after it ends.
 */

/** The part of an answer the rule looks at (the full answer's `meta` fits it). */
export interface CacheableAnswer {
  readonly meta: {
    readonly runtime: 'tollama' | 'baseline'
    readonly fallback_reason: string | null
    /** An answer read from the cache is not a new computation: storing it again would restart its TTL. */
    readonly cache_hit?: boolean
    readonly cache_stale?: boolean
  }
}

export function isCacheable(answer: CacheableAnswer): boolean {
  const meta = answer.meta
  if (meta.cache_hit === true || meta.cache_stale === true) return false
  if (meta.runtime === 'tollama') return meta.fallback_reason === null
  return meta.fallback_reason !== null && isGateReason(meta.fallback_reason)
}
