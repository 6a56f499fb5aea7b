import type { ForecastResponse } from '../../response.js'

/**
 * How an answer is stored under its key in L2: `tsfm1 <storedAt> <length> <json>`.
 *
 * - `tsfm1` names the format: anything else under the key (an older or newer daemon's format,
 *   another program's value) is not ours to read, and is a miss that the next answer overwrites.
 * - `storedAt` is when the answer was computed, on the shared epoch clock (src/clock/clock.ts),
 *   so another daemon serves it with the age it has, not as fresh.
 * - `length` is the JSON's length: a value cut short (a partial write, a full disk, a proxy) is
 *   detected without parsing it.
 *
 * Not compressed, measured: the default answer (12 steps × 3 quantiles) is 1 332 bytes of JSON;
 * raw deflate makes it 744 bytes for 41 µs, and inflating it costs 24 µs (Node 20.20, AMD EPYC
 * 2 vCPU, 10 000 rounds) — 65 µs of the main thread to save 588 bytes, which a loopback or LAN
 * link carries in under 1 µs. It would pay only for answers of hundreds of KiB (1 000 steps × 20
 * quantiles), which are not what a trading cycle asks for. A compressed format would be `tsfm2`.
 */
export const L2_FORMAT = 'tsfm1'

export interface L2Entry {
  readonly value: ForecastResponse
  /** When it was computed (shared epoch clock, ms). */
  readonly storedAt: number
}

export function encodeEntry(value: ForecastResponse, storedAt: number): string {
  const json = JSON.stringify(value)
  return `${L2_FORMAT} ${storedAt} ${json.length} ${json}`
}

/**
 * The entry stored in `text`, or null when it is not one this version wrote whole, or is not an
 * answer for `marketId`. Never throws: garbage under a key is a miss.
 */
export function decodeEntry(text: unknown, marketId: string): L2Entry | null {
  if (typeof text !== 'string' || !text.startsWith(L2_FORMAT + ' ')) return null
  const a = L2_FORMAT.length + 1
  const b = text.indexOf(' ', a)
  if (b < 0) return null
  const c = text.indexOf(' ', b + 1)
  if (c < 0) return null
  const storedAt = Number(text.slice(a, b))
  const length = Number(text.slice(b + 1, c))
  if (!Number.isFinite(storedAt) || !Number.isInteger(length) || text.length - c - 1 !== length) return null
  let value: unknown
  try {
    value = JSON.parse(text.slice(c + 1))
  } catch {
    return null
  }
  return isAnswer(value, marketId) ? { value, storedAt } : null
}

/** The shape the daemon serves (SPEC §2.1): enough to never hand a client something else. */
function isAnswer(v: unknown, marketId: string): v is ForecastResponse {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Partial<ForecastResponse>
  if (r.market_id !== marketId || typeof r.as_of_ts !== 'string' || typeof r.freq !== 'string') return false
  if (!Number.isInteger(r.horizon_steps) || !Array.isArray(r.quantiles) || r.quantiles.length === 0) return false
  if (typeof r.meta !== 'object' || r.meta === null || typeof r.meta.runtime !== 'string') return false
  const paths = r.yhat_q
  if (typeof paths !== 'object' || paths === null) return false
  for (const q of r.quantiles) {
    const path = (paths as Record<string, unknown>)[String(q)]
    if (!Array.isArray(path) || path.length !== r.horizon_steps) return false
    for (const x of path) if (typeof x !== 'number' || !Number.isFinite(x)) return false
  }
  return true
}
