import type { ForecastResponse } from '../response.js'

/** A compiled serializer (fast-json-stringify, compiled by fastify from one of our schemas). */
export type Serializer = (value: object) => string

/**
 * The body of an answer that cache hits share, serialised once: the text of everything up to
 * and including `yhat_q`, with the values it was made from (a later answer reuses the text
 * only if it carries the very same ones).
 */
class SerializedHead {
  constructor(
    readonly market_id: string,
    readonly as_of_ts: string,
    readonly freq: string,
    readonly horizon_steps: number,
    readonly quantiles: readonly number[],
    /** `{"market_id":…,"yhat_q":{…}` — the opening of the document, without its closing brace. */
    readonly text: string,
  ) {}

  matches(a: ForecastResponse): boolean {
    return (
      a.market_id === this.market_id &&
      a.as_of_ts === this.as_of_ts &&
      a.freq === this.freq &&
      a.horizon_steps === this.horizon_steps &&
      a.quantiles === this.quantiles
    )
  }
}

/**
 * The JSON text of a forecast answer, byte for byte what fastify's compiled serializer of
 * `forecastResponseSchema` writes, with the body of cache hits serialised only once.
 *
 * Every answer made from one cached answer shares its frozen `yhat_q` object and everything
 * before it (src/supervisor/answer.ts `reanswer`); only `meta` changes. So the first time an
 * answer marked `cache_hit` is written, the text of its body is kept in a WeakMap keyed by its
 * `yhat_q` — alive exactly as long as the cached answer — and later hits write only `meta`.
 * Measured (perf/http/serialize.bench.ts, this machine, two runs): the default answer (12 steps
 * × 3 quantiles) 3.0 µs → 0.6–0.8 µs; 288 steps × 9 quantiles 209–237 µs → 0.6 µs. Answers that
 * are not cache hits are written in two parts without being kept (no WeakMap entry that dies at
 * once). Memory: one string per cache entry hit at least once (~1 KB for the default answer).
 */
export class ForecastJson {
  readonly #head: Serializer
  readonly #meta: Serializer
  readonly #heads = new WeakMap<object, SerializedHead>()

  /** `head` compiled from `forecastHeadSchema`, `meta` from `forecastMetaSchema` (src/http/schemas.ts). */
  constructor(head: Serializer, meta: Serializer) {
    this.#head = head
    this.#meta = meta
  }

  /** Bound, so it can be handed to `promise.then` without a closure per request. */
  readonly stringify = (answer: ForecastResponse): string => {
    const tail = `"meta":${this.#meta(answer.meta)},"conformal_last_step":null}`
    if (!answer.meta.cache_hit) return this.#opening(answer) + tail
    let head = this.#heads.get(answer.yhat_q)
    if (head === undefined || !head.matches(answer)) {
      head = new SerializedHead(answer.market_id, answer.as_of_ts, answer.freq, answer.horizon_steps, answer.quantiles, this.#opening(answer))
      this.#heads.set(answer.yhat_q, head)
    }
    return head.text + tail
  }

  /** `{"market_id":…,"yhat_q":{…},` — ready for `"meta"` to follow. */
  #opening(answer: ForecastResponse): string {
    const text = this.#head(answer)
    return text.length > 2 ? `${text.slice(0, -1)},` : '{'
  }
}
