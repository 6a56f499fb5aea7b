import { parseIsoTimestamp, type ParsedTimestamp } from './timestamp.js'

/**
 * A fast path for `y_ts`, which is a run of timestamps that almost always share their day with
 * the one before (288 five-minute points span two days at most) and are almost always written
 * in one of three forms: `YYYY-MM-DDTHH:MM:SSZ` (JavaScript's `toISOString` without
 * milliseconds), `YYYY-MM-DDTHH:MM:SS+00:00` (Python's `isoformat()` of an aware UTC datetime)
 * or `YYYY-MM-DDTHH:MM:SS` (a naive one).
 *
 * For such a timestamp on the same day as the last one it fully parsed, only the clock is read;
 * the day's start is remembered from that last full parse. Anything else — another form, another
 * day, any character out of place — goes to the general parser (`parseIsoTimestamp`), which
 * alone decides what is rejected, so the accepted set and every result are unchanged (a property
 * test checks this against the general parser).
 *
 * Why: `y_ts` was 27 µs of the 38 µs that validating a 288-point body took, ~95 ns per timestamp
 * in the general parser, about half of it spent on the date (this machine's `charCodeAt` costs
 * ~2 ns). With this path (and `%` skipped for one-step gaps, src/request/validate.ts) the y_ts
 * loop takes 16 µs instead of 34 µs (perf/supervisor/answer.bench.ts, "y_ts validation").
 */

/** The day of the last timestamp parsed in full: its `YYYYMMDD` digits and its start (epoch ms). */
export class DayMemo {
  date = -1
  dayMs = 0
}

const CODE_0 = 48

/** The two digits at `i` as a number, or -1 (also past the end: NaN − 48 is not ≤ 9). */
function two(text: string, i: number): number {
  const a = text.charCodeAt(i) - CODE_0
  const b = text.charCodeAt(i + 1) - CODE_0
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/**
 * Parses `text` into `out` as `parseIsoTimestamp` would, through `memo` when it can. Returns
 * false exactly when `parseIsoTimestamp` would.
 */
export function parseSameDayTimestamp(text: string, out: ParsedTimestamp, memo: DayMemo): boolean {
  const len = text.length
  let zoned: boolean
  if (len === 20) {
    if (text.charCodeAt(19) !== 90) return parseIsoTimestamp(text, out) // 'Z'
    zoned = true
  } else if (len === 19) {
    zoned = false
  } else if (len === 25) {
    // "+00:00"
    if (
      text.charCodeAt(19) !== 43 ||
      text.charCodeAt(20) !== 48 ||
      text.charCodeAt(21) !== 48 ||
      text.charCodeAt(22) !== 58 ||
      text.charCodeAt(23) !== 48 ||
      text.charCodeAt(24) !== 48
    ) {
      return parseIsoTimestamp(text, out)
    }
    zoned = true
  } else {
    return parseIsoTimestamp(text, out)
  }
  const y0 = two(text, 0)
  const y1 = two(text, 2)
  const month = two(text, 5)
  const day = two(text, 8)
  const hour = two(text, 11)
  const minute = two(text, 14)
  const second = two(text, 17)
  if (
    (y0 | y1 | month | day | hour | minute | second) < 0 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    text.charCodeAt(4) !== 45 || // '-'
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // 'T'
    text.charCodeAt(13) !== 58 || // ':'
    text.charCodeAt(16) !== 58
  ) {
    return parseIsoTimestamp(text, out)
  }
  const clockMs = ((hour * 60 + minute) * 60 + second) * 1000
  const date = ((y0 * 100 + y1) * 100 + month) * 100 + day
  if (date !== memo.date) {
    // A new day: the general parser checks the date (month lengths, leap years) and dates it.
    if (!parseIsoTimestamp(text, out)) return false
    memo.date = date
    memo.dayMs = out.ms - clockMs
    return true
  }
  out.ms = memo.dayMs + clockMs
  out.zoned = zoned
  return true
}
