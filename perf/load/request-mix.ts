import { seededRandom } from '../../src/sim/prng.js'
/**
 * The request mix of a load run: request i asks for key `keyOf(i)`, and every request of one key
 * has the same body (so the daemon's cache and single-flight see real repeats). Keys are markets
 * `<prefix>-k<key>`; a fresh prefix per run keeps one run's cache entries from serving the next.
 *
 * Bodies look like a trading client's: 288 five-minute prices with 4 decimals (~2.3 KB of JSON,
 * as a price feed rounds them — full doubles would make a 200-market cycle exceed the 1 MiB
 * body limit), `as_of_ts`, and optional extra fields (e.g. `liquidity_bucket`). They are
 * serialised once per key (finite mixes) or assembled from a precomputed template (one key per
 * request), so the load generator spends its time on requests, not on JSON.stringify.
 */

export const AS_OF_TS = '2026-02-20T00:00:00Z'

export interface MixOptions {
  /** Market id prefix; make it unique per run. */
  readonly prefix: string
  /** Distinct keys; `Infinity` = every request its own key (no cache hits possible). */
  readonly uniqueKeys: number
  /** Requests the run will send; a finite mix spreads them evenly over its keys. */
  readonly requests?: number
  readonly points?: number
  readonly seed?: number
  /** Extra top-level body fields, identical in every request. */
  readonly extra?: Readonly<Record<string, unknown>>
}

/** Series shapes shared by the keys (key k uses shape k mod SHAPES). */
const SHAPES = 16

/** A seedable PRNG (mulberry32, shared with the simulator): deterministic mixes across runs and machines. */
export const prng = seededRandom

/** A price path in (0.02, 0.98), 4 decimals: a slow wave plus a seeded random walk. */
export function priceSeries(shape: number, points: number, seed = 1): number[] {
  const rnd = prng(seed * 7919 + shape)
  const y: number[] = []
  let walk = 0
  for (let i = 0; i < points; i++) {
    walk += (rnd() - 0.5) * 0.02
    const v = 0.5 + 0.25 * Math.sin((i + 11 * shape) / 37) + walk
    y.push(Math.round(Math.min(0.98, Math.max(0.02, v)) * 10_000) / 10_000)
  }
  return y
}

export class RequestMix {
  readonly prefix: string
  readonly uniqueKeys: number
  readonly #order: Uint32Array | null
  readonly #bodies: Buffer[] | null
  /** Per shape: body text before and after the market id (one key per request). */
  readonly #templates: { readonly head: string; readonly tail: string }[]
  readonly #rnd: () => number

  constructor(opts: MixOptions) {
    this.prefix = opts.prefix
    this.uniqueKeys = opts.uniqueKeys
    const points = opts.points ?? 288
    const seed = opts.seed ?? 1
    this.#rnd = prng(seed)
    this.#templates = []
    for (let s = 0; s < SHAPES; s++) {
      const body = JSON.stringify({ market_id: '\u0000', as_of_ts: AS_OF_TS, y: priceSeries(s, points, seed), ...opts.extra })
      const at = body.indexOf('\\u0000')
      this.#templates.push({ head: body.slice(0, at), tail: body.slice(at + 6) })
    }
    if (Number.isFinite(opts.uniqueKeys)) {
      const k = opts.uniqueKeys
      if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`uniqueKeys should be an integer >= 1 or Infinity, got ${k}`)
      this.#bodies = Array.from({ length: k }, (_, key) => Buffer.from(this.#text(key)))
      const n = opts.requests ?? 0
      // Every key appears ⌊n/k⌋ or ⌈n/k⌉ times, in a seeded shuffle (Fisher–Yates).
      const order = new Uint32Array(n)
      for (let i = 0; i < n; i++) order[i] = i % k
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(this.#rnd() * (i + 1))
        const t = order[i] as number
        order[i] = order[j] as number
        order[j] = t
      }
      this.#order = order
    } else {
      this.#bodies = null
      this.#order = null
    }
  }

  /** The key of request i (beyond the planned count of a finite mix: a seeded random key). */
  keyOf(i: number): number {
    if (this.#order === null) return i
    return i < this.#order.length ? (this.#order[i] as number) : Math.floor(this.#rnd() * this.uniqueKeys)
  }

  marketId(key: number): string {
    return `${this.prefix}-k${key}`
  }

  body(key: number): Buffer | string {
    return this.#bodies === null ? this.#text(key) : (this.#bodies[key] as Buffer)
  }

  /** The body as a parsed object (cycles embed many requests in one body). */
  object(key: number): Record<string, unknown> {
    return JSON.parse(this.#text(key)) as Record<string, unknown>
  }

  #text(key: number): string {
    const t = this.#templates[key % SHAPES] as { head: string; tail: string }
    return t.head + this.marketId(key) + t.tail
  }
}
