import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import type { ConformalAdjustment } from './adjustment.js'

/**
 * The conformal state file, as the Python service reads and writes it
 * (`calibration/conformal_state.py`):
 *
 *   { "schema_version": 1 | 2, "updated_at": ISO-8601, "adjustment": A, "default_adjustment": A,
 *     "metadata": {…}, ["segment_fields": [...], "segments": { "<key>": A, … }] }
 *
 * with A = { target_coverage, quantile_level, center_shift, width_scale, sample_size }. Reading
 * follows the Python loader: the default is `default_adjustment`, else `adjustment`, else the
 * root object itself (the oldest, flat files); segments come from `segments` (entries that are
 * not objects are skipped, as there). Unlike the Python loader, a value that is not a finite
 * number is an error here (Python's `float("nan")` would let a NaN band through).
 */

export interface ConformalState {
  readonly default: ConformalAdjustment
  /** Segment key (as in the file) → adjustment. */
  readonly segments: ReadonlyMap<string, ConformalAdjustment>
  readonly segmentFields: readonly string[]
  readonly updatedAt: string | null
  readonly metadata: Readonly<Record<string, unknown>>
  readonly schemaVersion: number
}

/** A state file that cannot be used; `message` names the field and quotes the value. */
export class ConformalStateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConformalStateError'
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function finite(obj: Record<string, unknown>, field: string, at: string): number {
  const v = obj[field]
  // The Python loader takes anything float() takes, numeric strings included.
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN
  if (!Number.isFinite(n)) throw new ConformalStateError(`${at}.${field} should be a finite number, got ${JSON.stringify(v) ?? String(v)}`)
  return n
}

export function decodeAdjustment(v: unknown, at: string): ConformalAdjustment {
  if (!isObject(v)) throw new ConformalStateError(`${at} should be an object, got ${JSON.stringify(v) ?? String(v)}`)
  const target_coverage = finite(v, 'target_coverage', at)
  const quantile_level = finite(v, 'quantile_level', at)
  const center_shift = finite(v, 'center_shift', at)
  const width_scale = finite(v, 'width_scale', at)
  const size = finite(v, 'sample_size', at)
  if (width_scale < 0) throw new ConformalStateError(`${at}.width_scale should be ≥ 0, got ${width_scale}`)
  // Python's int() truncates toward zero.
  return Object.freeze({ target_coverage, quantile_level, center_shift, width_scale, sample_size: Math.trunc(size) })
}

/** Decode a parsed state file; throws ConformalStateError naming what is wrong. */
export function decodeState(payload: unknown): ConformalState {
  if (!isObject(payload)) throw new ConformalStateError(`the state file should hold a JSON object, got ${JSON.stringify(payload)?.slice(0, 80) ?? String(payload)}`)
  const [def, at] = 'default_adjustment' in payload ? [payload.default_adjustment, 'default_adjustment'] : 'adjustment' in payload ? [payload.adjustment, 'adjustment'] : [payload, '(root)']
  const segments = new Map<string, ConformalAdjustment>()
  if (isObject(payload.segments)) {
    for (const [key, value] of Object.entries(payload.segments)) {
      if (!isObject(value)) continue
      segments.set(key, decodeAdjustment(value, `segments[${JSON.stringify(key)}]`))
    }
  }
  const fields = Array.isArray(payload.segment_fields) ? payload.segment_fields.filter((f): f is string => typeof f === 'string') : []
  const version = typeof payload.schema_version === 'number' ? payload.schema_version : 1
  return Object.freeze({
    default: decodeAdjustment(def, at),
    segments,
    segmentFields: Object.freeze(fields),
    updatedAt: typeof payload.updated_at === 'string' ? payload.updated_at : null,
    metadata: Object.freeze(isObject(payload.metadata) ? { ...payload.metadata } : {}),
    schemaVersion: version,
  })
}

export async function readStateFile(path: string): Promise<ConformalState> {
  return parseStateText(await readStateText(path), path)
}

export async function readStateText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (e) {
    throw new ConformalStateError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
}

export function parseStateText(text: string, path: string): ConformalState {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new ConformalStateError(`${path} is not JSON: ${(e as Error).message}`)
  }
  try {
    return decodeState(parsed)
  } catch (e) {
    throw e instanceof ConformalStateError ? new ConformalStateError(`${path}: ${e.message}`) : e
  }
}

function plain(a: ConformalAdjustment): Record<string, number> {
  return { center_shift: a.center_shift, quantile_level: a.quantile_level, sample_size: a.sample_size, target_coverage: a.target_coverage, width_scale: a.width_scale }
}

/**
 * The file's JSON as the Python service writes it (`save_conformal_adjustment`): schema 2 with
 * `segment_fields`/`segments` when there are segments, else 1; `adjustment` and
 * `default_adjustment` both the default; keys sorted, indent 2.
 */
export function encodeState(s: { readonly default: ConformalAdjustment; readonly segments: ReadonlyMap<string, ConformalAdjustment>; readonly segmentFields: readonly string[]; readonly metadata: Readonly<Record<string, unknown>> }, updatedAt: string): string {
  const payload: Record<string, unknown> = {
    adjustment: plain(s.default),
    default_adjustment: plain(s.default),
    metadata: s.metadata,
    schema_version: s.segments.size > 0 ? 2 : 1,
    updated_at: updatedAt,
  }
  if (s.segments.size > 0) {
    payload.segment_fields = [...s.segmentFields]
    payload.segments = Object.fromEntries([...s.segments].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([k, v]) => [k, plain(v)]))
  }
  return `${JSON.stringify(sortKeys(payload), null, 2)}\n`
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (!isObject(v)) return v
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]))
}

/**
 * Write a file so that a reader sees the old content or the new, never a part: a temp file
 * beside it (same directory, so the same filesystem), then `rename` over the target.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, text, { encoding: 'utf8', flag: 'wx' })
    await rename(tmp, path)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
}
