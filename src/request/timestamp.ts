/**
 * Timestamps on the wire (SPEC §2.1 `as_of_ts`, `y_ts`): a strict ISO-8601 / RFC 3339 subset,
 * parsed by hand because `Date.parse` is lenient in engine-specific ways (it accepts
 * `"2026-02-30"`, `"Feb 20 2026"`, `"2026-2-20"`, and reads an unzoned date-only string as UTC
 * but an unzoned date-time as *local* time).
 *
 * Grammar: `YYYY-MM-DD(T| )HH:MM[:SS[.f…]][Z|±HH:MM]`
 * - the separator may be `T` or a space (Python's `str(datetime)` writes a space; pydantic
 *   accepts both, and clients of the Python service must work unchanged);
 * - seconds are optional; 1–9 fraction digits; precision is the millisecond (further digits are
 *   truncated, so grid arithmetic on epoch ms stays exact);
 * - `Z` or `±HH:MM` (offset hours 00–23); no lowercase `t`/`z`, no `±HHMM`, no `24:00`, no leap
 *   second, and the day must exist in its month (leap years included);
 * - no zone means UTC, and is reported as *unzoned* so `y_ts` can refuse a mix.
 *
 * Epoch seconds (for `as_of_ts`) are rounded to the millisecond. Every accepted instant lies in
 * [1970-01-01, 2100-01-01): anything outside is a unit mistake (e.g. milliseconds sent as seconds)
 * rather than a market price history.
 */

/** Output slot of `parseIsoTimestamp`, reused across calls so the hot loop allocates nothing. */
export interface ParsedTimestamp {
  /** Epoch milliseconds (UTC). */
  ms: number
  /** Whether the text carried `Z` or an offset. */
  zoned: boolean
}

export function newParsedTimestamp(): ParsedTimestamp {
  return { ms: Number.NaN, zoned: false }
}

/** 1970-01-01T00:00:00Z. */
export const TIMESTAMP_MIN_MS = 0
/** 2100-01-01T00:00:00Z (exclusive). */
export const TIMESTAMP_MAX_MS = 4_102_444_800_000

const MS_PER_DAY = 86_400_000
const CODE_0 = 48
const CODE_9 = 57

function digit(text: string, i: number): number {
  const c = text.charCodeAt(i) // NaN past the end
  return c >= CODE_0 && c <= CODE_9 ? c - CODE_0 : -1
}

/** Two digits at `i` as a number, or -1. */
function twoDigits(text: string, i: number): number {
  const a = digit(text, i)
  const b = digit(text, i + 1)
  return a < 0 || b < 0 ? -1 : a * 10 + b
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

/**
 * Parses `text` into `out` and returns true, or returns false (leaving `out` unspecified) when it
 * does not match the grammar above. Does not apply the plausible range (see `isPlausibleMs`).
 */
export function parseIsoTimestamp(text: string, out: ParsedTimestamp): boolean {
  const len = text.length
  if (len < 16 || len > 35) return false
  const y0 = twoDigits(text, 0)
  const y1 = twoDigits(text, 2)
  if (y0 < 0 || y1 < 0 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false // '-'
  const year = y0 * 100 + y1
  const month = twoDigits(text, 5)
  const day = twoDigits(text, 8)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false
  const sep = text.charCodeAt(10)
  if (sep !== 84 && sep !== 32) return false // 'T' or ' '
  const hour = twoDigits(text, 11)
  const minute = twoDigits(text, 14)
  if (hour < 0 || hour > 23 || text.charCodeAt(13) !== 58 || minute < 0 || minute > 59) return false // ':'

  let i = 16
  let second = 0
  let millis = 0
  if (i < len && text.charCodeAt(i) === 58) {
    second = twoDigits(text, i + 1)
    if (second < 0 || second > 59) return false
    i += 3
    if (i < len && text.charCodeAt(i) === 46) {
      // '.': 1–9 digits, the first three are milliseconds
      const start = ++i
      let scale = 100
      while (i < len) {
        const d = digit(text, i)
        if (d < 0) break
        millis += d * scale
        scale = scale / 10 >= 1 ? scale / 10 : 0
        i++
      }
      const count = i - start
      if (count < 1 || count > 9) return false
    }
  }

  let offsetMinutes = 0
  let zoned = false
  if (i < len) {
    const c = text.charCodeAt(i)
    if (c === 90 && i + 1 === len) {
      zoned = true // 'Z'
    } else if ((c === 43 || c === 45) && i + 6 === len) {
      // '+' / '-' HH:MM
      const oh = twoDigits(text, i + 1)
      const om = twoDigits(text, i + 4)
      if (oh < 0 || oh > 23 || text.charCodeAt(i + 3) !== 58 || om < 0 || om > 59) return false
      offsetMinutes = (c === 45 ? -1 : 1) * (oh * 60 + om)
      zoned = true
    } else {
      return false
    }
  }

  out.ms =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    millis
  out.zoned = zoned
  return true
}

/** Whether `ms` lies in [1970-01-01, 2100-01-01). */
export function isPlausibleMs(ms: number): boolean {
  return ms >= TIMESTAMP_MIN_MS && ms < TIMESTAMP_MAX_MS
}

/** Epoch seconds → epoch ms rounded to the millisecond, or NaN when not finite or not plausible. */
export function epochSecondsToMs(seconds: number): number {
  const ms = Math.round(seconds * 1000)
  return isPlausibleMs(ms) ? ms : Number.NaN
}

/** `2026-02-20T00:00:00Z` (milliseconds only when non-zero: `…00.250Z`), the form pydantic echoes. */
export function formatIsoUtc(ms: number): string {
  const iso = new Date(ms).toISOString()
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso
}
