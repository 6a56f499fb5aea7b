import type { ConformalLastStep } from '../conformal/adjustment.js'
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
    const tail = `"meta":${this.#meta(answer.meta)},"conformal_last_step":${lastStepJson(answer.conformal_last_step)}}`
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

/**
 * `conformal_last_step` as fast-json-stringify writes it: eight fixed keys, numbers as
 * `String(n)` (the shortest text that reads back as the same double, as `JSON.stringify`), in
 * the schema's order. Written by hand: its values change with every answer, so there is no text
 * to keep, and a template is cheaper than a compiled serializer's object walk.
 */
function lastStepJson(s: ConformalLastStep | null): string {
  if (s === null) return 'null'
  return `{"q10":${num(s.q10)},"q50":${num(s.q50)},"q90":${num(s.q90)},"band_calibration":"conformal","conformal_target_coverage":${num(s.conformal_target_coverage)},"conformal_quantile_level":${num(s.conformal_quantile_level)},"conformal_center_shift":${num(s.conformal_center_shift)},"conformal_width_scale":${num(s.conformal_width_scale)}}`
}

/** A finite number as JSON; the state file and the band guards keep them finite, but never write NaN. */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null'
}
