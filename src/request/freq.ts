import { TsfmError, quote } from '../errors.js'

/**
 * The sampling frequency of a series: `<n>m` (minutes) or `<n>h` (hours), n a whole number >= 1
 * written without a sign or leading zeros (SPEC §2.1: `0m`, `-5m`, `5min`, `1d` are rejected).
 *
 * Strict on purpose:
 * - lowercase units only: `5M` is rejected because pandas — where our freq ends up, upstream —
 *   reads `M` as *month end*, so accepting it would invite a silent unit mix-up;
 * - at most one week per step (`10080m` / `168h`): a longer step is a caller mistake and would
 *   overflow the derived timestamps of a long series.
 *
 * Parsing walks char codes (no regex, no allocation): it runs once per request.
 */

export const FREQ_MAX_MINUTES = 10_080

const CODE_0 = 48
const CODE_9 = 57
const CODE_M = 109 // 'm'
const CODE_H = 104 // 'h'

/** Minutes per step of `text`, or 0 when `text` is not a valid freq string. */
export function freqMinutes(text: unknown): number {
  if (typeof text !== 'string') return 0
  const len = text.length
  // At least one digit and a unit; 7 chars is more digits than any value under the cap.
  if (len < 2 || len > 7) return 0
  const first = text.charCodeAt(0)
  if (first <= CODE_0 || first > CODE_9) return 0 // no sign, no leading zero, not `0m`
  let n = 0
  for (let i = 0; i < len - 1; i++) {
    const c = text.charCodeAt(i)
    if (c < CODE_0 || c > CODE_9) return 0
    n = n * 10 + (c - CODE_0)
  }
  const unit = text.charCodeAt(len - 1)
  const minutes = unit === CODE_M ? n : unit === CODE_H ? n * 60 : 0
  return minutes <= FREQ_MAX_MINUTES ? minutes : 0
}

/** Milliseconds per step of `text`, or 0 when `text` is not a valid freq string. */
export function freqStepMs(text: unknown): number {
  return freqMinutes(text) * 60_000
}

/** The error every invalid freq gets, so the HTTP daemon, the embedding API and the config agree. */
export function freqError(value: unknown, path: string): TsfmError {
  return new TsfmError(
    'TSFM_FREQ',
    `${path} must look like "5m" or "1h" (n >= 1, lowercase, at most ${FREQ_MAX_MINUTES} minutes), got ${quote(value)}`,
    path,
  )
}

/**
 * Our notation in pandas' (what tollama expects, tollama-api.md): minutes are `min`, hours `h`.
 * The number is kept as written (`90m` → `90min`, not `1h30min`; `60m` → `60min`).
 * Throws TSFM_FREQ for a string that is not a valid freq (callers pass validated requests).
 */
export function toPandasFreq(freq: string): string {
  if (freqMinutes(freq) === 0) throw freqError(freq, 'freq')
  return freq.charCodeAt(freq.length - 1) === CODE_M ? `${freq.slice(0, -1)}min` : freq
}
