import type { Verdict } from './check-answer.js'
import { percentiles, round, type Percentiles } from './percentiles.js'

/**
 * Counts the verdicts of one run and keeps every latency: the client-side one (send → last body
 * byte) and the daemon's own `meta.timings_ms.total`. `report()` turns them into the figures every
 * load benchmark prints: p50/p95/p99, throughput, fallback rate by reason, cache hit rate.
 */

export interface LoadReport {
  readonly requests: number
  readonly wall_ms: number
  readonly throughput_rps: number
  /** Client-side latency of every answered request (any status). */
  readonly latency_ms: Percentiles
  /** Client-side latency by outcome. */
  readonly latency_upstream_ms: Percentiles
  readonly latency_cache_hit_ms: Percentiles
  readonly latency_fallback_ms: Percentiles
  /** `meta.timings_ms.total` (the daemon's own view) of fallback answers not served from the cache. */
  readonly daemon_fallback_ms: Percentiles
  /** `meta.timings_ms.total` of answers from the upstream (not cache hits). */
  readonly daemon_upstream_ms: Percentiles
  readonly daemon_ms: Percentiles
  /** Client-side latency of fallback answers not served from the cache, by fallback reason. */
  readonly latency_by_reason_ms: Readonly<Record<string, Percentiles>>
  /** `meta.timings_ms.total` of those answers, by fallback reason. */
  readonly daemon_by_reason_ms: Readonly<Record<string, Percentiles>>
  /** Of those answers, how many took longer than SLOW_FALLBACK_MS client-side, by reason. */
  readonly slow_fallbacks_by_reason: Readonly<Record<string, number>>
  readonly success: number
  readonly fallbacks: number
  readonly fallback_rate: number
  readonly fallbacks_by_reason: Readonly<Record<string, number>>
  readonly errors: number
  readonly errors_by_kind: Readonly<Record<string, number>>
  readonly invalid: number
  readonly invalid_by_problem: Readonly<Record<string, number>>
  readonly cache_hits: number
  readonly cache_hit_rate: number
}

/** A fallback slower than this (client-side) was not answered promptly (`perf.queue_timeout_ms`'s default). */
export const SLOW_FALLBACK_MS = 100

const UPSTREAM = 0
const CACHE_HIT = 1
const FALLBACK = 2
const OTHER = 3

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

export class Tally {
  #latency: Float64Array
  #daemon: Float64Array
  #kind: Uint8Array
  /** Fallback reason of each fallback answer (sparse: only fallbacks have one). */
  readonly #reason = new Map<number, string>()
  #n = 0
  success = 0
  fallbacks = 0
  errors = 0
  invalid = 0
  cacheHits = 0
  readonly byReason = new Map<string, number>()
  readonly byError = new Map<string, number>()
  readonly byProblem = new Map<string, number>()

  constructor(capacity = 1024) {
    this.#latency = new Float64Array(capacity)
    this.#daemon = new Float64Array(capacity).fill(Number.NaN)
    this.#kind = new Uint8Array(capacity)
  }

  get count(): number {
    return this.#n
  }

  add(v: Verdict, latencyMs: number): void {
    const i = this.#n++
    if (i >= this.#latency.length) this.#grow()
    this.#latency[i] = latencyMs
    switch (v.kind) {
      case 'success':
        this.success++
        if (v.cacheHit) this.cacheHits++
        this.#kind[i] = v.cacheHit ? CACHE_HIT : UPSTREAM
        this.#daemon[i] = v.daemonMs
        return
      case 'fallback':
        this.fallbacks++
        if (v.cacheHit) this.cacheHits++
        bump(this.byReason, v.reason)
        this.#kind[i] = v.cacheHit ? CACHE_HIT : FALLBACK
        if (!v.cacheHit) this.#reason.set(i, v.reason)
        this.#daemon[i] = v.daemonMs
        return
      case 'error':
        this.errors++
        bump(this.byError, v.what)
        this.#kind[i] = OTHER
        return
      case 'invalid':
        this.invalid++
        bump(this.byProblem, v.problem)
        this.#kind[i] = OTHER
        return
    }
  }

  /** Duration-bound runs do not know their count in advance: double the arrays. */
  #grow(): void {
    const size = this.#latency.length * 2
    const latency = new Float64Array(size)
    latency.set(this.#latency)
    const daemon = new Float64Array(size).fill(Number.NaN)
    daemon.set(this.#daemon)
    const kind = new Uint8Array(size)
    kind.set(this.#kind)
    this.#latency = latency
    this.#daemon = daemon
    this.#kind = kind
  }

  #select(which: Float64Array, keep: (kind: number) => boolean): number[] {
    const out: number[] = []
    for (let i = 0; i < this.#n; i++) {
      const v = which[i] as number
      if (keep(this.#kind[i] as number) && !Number.isNaN(v)) out.push(v)
    }
    return out
  }

  /** Percentiles of `which` over fallback answers (not cache hits), per reason. */
  #byReason(which: Float64Array): Record<string, Percentiles> {
    const groups = new Map<string, number[]>()
    for (const [i, reason] of this.#reason) {
      const v = which[i] as number
      if (Number.isNaN(v)) continue
      let g = groups.get(reason)
      if (g === undefined) groups.set(reason, (g = []))
      g.push(v)
    }
    return Object.fromEntries([...groups].map(([k, v]) => [k, percentiles(v)]))
  }

  #slowByReason(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [i, reason] of this.#reason) if ((this.#latency[i] as number) > SLOW_FALLBACK_MS) out[reason] = (out[reason] ?? 0) + 1
    return out
  }

  report(wallMs: number): LoadReport {
    const n = this.#n
    const answered = this.success + this.fallbacks
    return {
      requests: n,
      wall_ms: round(wallMs),
      throughput_rps: round(wallMs > 0 ? (n / wallMs) * 1000 : Number.NaN),
      latency_ms: percentiles(this.#latency.subarray(0, n)),
      latency_upstream_ms: percentiles(this.#select(this.#latency, (k) => k === UPSTREAM)),
      latency_cache_hit_ms: percentiles(this.#select(this.#latency, (k) => k === CACHE_HIT)),
      latency_fallback_ms: percentiles(this.#select(this.#latency, (k) => k === FALLBACK)),
      daemon_fallback_ms: percentiles(this.#select(this.#daemon, (k) => k === FALLBACK)),
      daemon_upstream_ms: percentiles(this.#select(this.#daemon, (k) => k === UPSTREAM)),
      latency_by_reason_ms: this.#byReason(this.#latency),
      daemon_by_reason_ms: this.#byReason(this.#daemon),
      slow_fallbacks_by_reason: this.#slowByReason(),
      daemon_ms: percentiles(this.#select(this.#daemon, (k) => k !== OTHER)),
      success: this.success,
      fallbacks: this.fallbacks,
      fallback_rate: n === 0 ? 0 : this.fallbacks / n,
      fallbacks_by_reason: Object.fromEntries(this.byReason),
      errors: this.errors,
      errors_by_kind: Object.fromEntries(this.byError),
      invalid: this.invalid,
      invalid_by_problem: Object.fromEntries(this.byProblem),
      cache_hits: this.cacheHits,
      cache_hit_rate: answered === 0 ? 0 : this.cacheHits / answered,
    }
  }
}
