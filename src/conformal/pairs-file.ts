import { once } from 'node:events'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { quote } from '../errors.js'
import { segmentKey, type CalibrationPair } from './segments.js'

/**
 * The calibration pairs file: JSON Lines, one past band and its outcome a line,
 *
 *   {"q_low": 0.41, "median": 0.47, "q_high": 0.55, "actual": 0.52, "liquidity_bucket": "high", …}
 *
 * with the Python pipeline's names accepted too (`q10`, `q50`, `q90`, `resolved_prob`). Blank
 * lines are skipped. Any other line that is not a usable pair stops the read: a calibration fitted
 * on silently dropped lines would cover less than its file says.
 */

/** A pairs file that cannot be used; `message` names the file, the line and the field, and quotes the value. */
export class PairsInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PairsInputError'
  }
}

type BandField = 'low' | 'median' | 'high' | 'actual'

/** Each band field's accepted names, this tool's first, then the Python pipeline's. */
const NAMES: readonly (readonly [BandField, string, string])[] = [
  ['low', 'q_low', 'q10'],
  ['median', 'median', 'q50'],
  ['high', 'q_high', 'q90'],
  ['actual', 'actual', 'resolved_prob'],
]

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The value under one of two names; undefined when neither is there. Both at once is ambiguous. */
function pick(obj: Record<string, unknown>, name: string, alias: string): [string, unknown] | undefined {
  const has = Object.hasOwn(obj, name)
  const hasAlias = Object.hasOwn(obj, alias)
  if (has && hasAlias) throw new Error(`both ${name} and ${alias} are given (${quote(obj[name])} and ${quote(obj[alias])}); give one`)
  if (has) return [name, obj[name]]
  if (hasAlias) return [alias, obj[alias]]
  return undefined
}

function finite(name: string, value: unknown): number {
  // Only JSON numbers: a string would be a pipeline bug; 1e999 parses to Infinity.
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${name} should be a finite number, got ${quote(value)}`)
  return value
}

function segmentValue(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new Error(`${name} should be a string, got ${quote(value)}`)
}

function parseObject(obj: Record<string, unknown>, segmentFields: readonly string[]): CalibrationPair {
  const band: Partial<Record<BandField, number | null>> = {}
  for (const [field, name, alias] of NAMES) {
    const found = pick(obj, name, alias)
    if (field === 'median') {
      // The median is optional (the band's midpoint stands in); null is how pipelines write "none".
      band.median = found === undefined || found[1] === null ? null : finite(found[0], found[1])
    } else {
      if (found === undefined) throw new Error(`${name} (or ${alias}) is missing`)
      band[field] = finite(found[0], found[1])
    }
  }
  const values: Record<string, string | undefined> = {}
  for (const f of segmentFields) values[f] = segmentValue(f, obj[f])
  return { low: band.low!, median: band.median!, high: band.high!, actual: band.actual!, segment: segmentKey(segmentFields, values) }
}

/**
 * One line → a pair, or null for a blank line. Throws PairsInputError naming `where` (e.g.
 * `pairs.jsonl, line 7`), the field and the value.
 */
export function parsePairLine(text: string, where: string, segmentFields: readonly string[]): CalibrationPair | null {
  if (text.trim() === '') return null
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new PairsInputError(`${where}: not JSON (${(e as Error).message}): ${quote(text)}`)
  }
  if (!isObject(parsed)) throw new PairsInputError(`${where}: should be a JSON object, got ${quote(parsed)}`)
  try {
    return parseObject(parsed, segmentFields)
  } catch (e) {
    throw new PairsInputError(`${where}: ${(e as Error).message}`)
  }
}

/** Every pair of the file, read line by line (files can be large). */
export async function readPairsFile(path: string, segmentFields: readonly string[]): Promise<CalibrationPair[]> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (e) {
    throw new PairsInputError(`cannot read --input ${quote(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  const stream = handle.createReadStream({ encoding: 'utf8' })
  // readline does not pass on every stream error (a directory opens, then fails to read).
  const failed = new Promise<never>((_, reject) => stream.once('error', reject))
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  const pairs: CalibrationPair[] = []
  const reading = (async () => {
    let lineNo = 0
    for await (const raw of lines) {
      lineNo++
      const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw
      const pair = parsePairLine(text, `${path}, line ${lineNo}`, segmentFields)
      if (pair !== null) pairs.push(pair)
    }
  })()
  // Whichever settles second is not awaited; its outcome is already decided by the race.
  failed.catch(() => {})
  reading.catch(() => {})
  try {
    await Promise.race([reading, failed])
  } catch (e) {
    if (e instanceof PairsInputError) throw e
    throw new PairsInputError(`cannot read --input ${quote(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  } finally {
    lines.close()
    if (!stream.closed) {
      const closed = once(stream, 'close')
      stream.destroy()
      await closed
    }
  }
  return pairs
}
