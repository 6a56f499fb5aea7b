/**
 * Just enough pandas to place a forecast in time: fixed-step offset aliases (`5min`, `1h`, `30s`,
 * `D`, `W`) and ISO-8601 timestamps. Calendar frequencies (`M`, `ME`, `B`, `Q`, ...) and `auto`
 * fall back to the step between the last two timestamps — good enough for a simulator.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  L: 1,
  s: 1000,
  S: 1000,
  min: 60_000,
  T: 60_000,
  h: 3_600_000,
  H: 3_600_000,
  D: 86_400_000,
  W: 604_800_000,
}

const FREQ_RE = /^(\d+)?(ms|min|[LsSThHDW])(?:-[A-Z]{3})?$/

/** Step of a fixed-step pandas alias in ms, or null (`auto`, calendar aliases, nonsense). */
export function freqStepMs(freq: string): number | null {
  const m = FREQ_RE.exec(freq)
  if (m === null) return null
  const n = m[1] === undefined ? 1 : Number(m[1])
  if (n <= 0) return null
  return n * (UNIT_MS[m[2] as string] as number)
}

/** The pandas alias of a step: 300 000 → `5min`, 3 600 000 → `h`, 86 400 000 → `D`. */
export function freqAlias(stepMs: number): string {
  const units: readonly [number, string][] = [
    [604_800_000, 'W'],
    [86_400_000, 'D'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ]
  for (const [size, unit] of units) {
    if (stepMs % size === 0) {
      const n = stepMs / size
      return n === 1 ? unit : `${n}${unit}`
    }
  }
  return `${stepMs}ms`
}

export interface ParsedTimestamp {
  /** Epoch ms (a naive timestamp is read as UTC). */
  readonly ms: number
  /** True when the text carried `Z` or an offset. */
  readonly zoned: boolean
}

const TS_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

/** ISO-8601 date or date-time, or null when pandas-style parsing would fail. */
export function parseTimestamp(text: string): ParsedTimestamp | null {
  const m = TS_RE.exec(text)
  if (m === null) return null
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const month = Number(mo)
  const day = Number(d)
  const hour = h === undefined ? 0 : Number(h)
  const minute = mi === undefined ? 0 : Number(mi)
  const second = s === undefined ? 0 : Number(s)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null
  const millis = frac === undefined ? 0 : Number((frac + '00').slice(0, 3))
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second, millis)
  // Date.UTC rolls 31 February over into March: reject instead.
  if (new Date(ms).getUTCDate() !== day) return null
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const offsetMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0)
    ms -= sign * offsetMin * 60_000
  }
  return { ms, zoned: zone !== undefined }
}

/** `2026-02-20T23:55:00Z` (zoned input) or `2026-02-20T23:55:00` (naive input). */
export function formatTimestamp(ms: number, zoned: boolean): string {
  const iso = new Date(ms).toISOString() // always YYYY-MM-DDTHH:MM:SS.sssZ
  const base = ms % 1000 === 0 ? iso.slice(0, 19) : iso.slice(0, 23)
  return zoned ? base + 'Z' : base
}
