import { hash } from 'node:crypto'
import type { ForecastRequest } from '../request/types.js'

/**
 * The forecast cache key (SPEC §3.2): a hash over every field that can change the answer —
 * market_id, as_of_ts, freq, horizon_steps, quantiles, y, y_ts, max_gap_minutes, x_past,
 * x_future, transform, model, liquidity_bucket, category, tte_bucket. Not `rollout_stage`: it is
 * a metric label only. Derived fields (`as_of_ms`, `step_ms`) follow from the ones hashed.
 *
 * The hashed bytes are an unambiguous encoding: fields in a fixed order, every string and array
 * length-prefixed, every nullable field tagged, so two different requests never produce the same
 * bytes (`y [0.1, 0.2]` cannot be read as `y [0.1]` followed by something else). Strings are
 * written as UTF-16 code units, which is lossless even for lone surrogates (UTF-8 would turn
 * every lone surrogate into U+FFFD and make `"\ud800"` and `"\udc00"` the same market).
 * Numbers are their IEEE-754 bytes (arrays copied as they lie in memory, in this machine's byte
 * order — the key never leaves the process). So `-0` and `0` give different keys (validation
 * lets `-0` through, since `-0 >= 0`): a needless miss, never a wrong hit. NaN cannot reach here
 * (validation rejects it); if it did, only bit-identical NaNs would share a key. `y_ts` on a
 * regular grid is written as its first instant, step and count (`gridStep`), from which the
 * array follows bit for bit — still one encoding per array, in 20 bytes instead of 8 per point.
 *
 * Hash: SHA-256 through the one-shot `crypto.hash()` (Node >= 20.12), base64 (44 characters).
 * Cryptographic because requests are untrusted: with a fast non-cryptographic hash a client
 * could craft a request whose key collides with another market's and have its answer served
 * there. Measured on the default 288-point request with timestamps (4 842 bytes encoded before
 * the grid form of `y_ts`;
 * perf/cache/key.bench.ts, Node 20.20, AMD EPYC 2 vCPU, three runs): encode alone 0.74–0.85 µs;
 * encode + one-shot sha1 4.23–4.31 µs, sha256 4.44–4.84 µs, md5 8.6–8.7 µs, `createHash('sha1')`
 * 4.96–5.06 µs, a 2×32-bit murmur-style hash in JS 3.7–3.8 µs. SHA-256 costs ~5 % more than SHA-1
 * (~0.2 µs) and has no known collision attack; the non-cryptographic hash would save ~0.6 µs
 * (15 %) and give up the guarantee, for a key computed once per request.
 */

const FORMAT_VERSION = 2
const TAG_NULL = 0
const TAG_SOME = 1
/** `y_ts` on a regular grid, written as first instant, step and count (see `gridStep`). */
const TAG_GRID = 2

/**
 * The scratch the key bytes are encoded into: grown (never shrunk) when a request needs more;
 * 64 KiB covers about 4 000 points with timestamps. Written through a DataView rather than
 * Buffer's methods: three `setFloat64` took 2.6 ns against 52 ns for `writeDoubleLE`, a
 * `charCodeAt` loop 55 ns against 80 ns for `Buffer#write(s, 'utf16le')` (mitata, this machine);
 * "encode only" in perf/cache/key.bench.ts fell from 2.29 µs to 0.74 µs with the change.
 */
let bytes = new Uint8Array(64 * 1024)
let view = new DataView(bytes.buffer)

export function cacheKey(req: ForecastRequest): string {
  return hash('sha256', encodeKeyBytes(req), 'base64')
}

/**
 * The bytes `cacheKey` hashes: a view into a shared scratch buffer, valid only until the next
 * call (exported for the key benchmark and tests).
 */
export function encodeKeyBytes(req: ForecastRequest): Uint8Array {
  const model = req.model
  const params = canonicalJson(model.params)
  const xPast = sortedKeys(req.x_past)
  const xFuture = sortedKeys(req.x_future)

  const need =
    1 +
    strBytes(req.market_id) +
    strBytes(req.as_of_ts) +
    strBytes(req.freq) +
    4 +
    4 + 8 * req.quantiles.length +
    arrBytes(req.y) +
    1 + (req.y_ts === null ? 0 : 1 + Math.max(arrBytes(req.y_ts), GRID_BYTES)) +
    1 + 8 +
    recordBytes(req.x_past, xPast) +
    recordBytes(req.x_future, xFuture) +
    strBytes(req.transform.space) + 8 +
    strBytes(model.provider) +
    strBytes(model.model_name) +
    optStrBytes(model.model_version) +
    strBytes(params) +
    optStrBytes(req.liquidity_bucket) +
    optStrBytes(req.category) +
    optStrBytes(req.tte_bucket)
  if (need > bytes.length) {
    bytes = new Uint8Array(Math.max(need, bytes.length * 2))
    view = new DataView(bytes.buffer)
  }
  const dv = view

  dv.setUint8(0, FORMAT_VERSION)
  let o = 1
  o = writeStr(dv, o, req.market_id)
  o = writeStr(dv, o, req.as_of_ts)
  o = writeStr(dv, o, req.freq)
  dv.setUint32(o, req.horizon_steps, true)
  o += 4
  dv.setUint32(o, req.quantiles.length, true)
  o += 4
  for (let i = 0; i < req.quantiles.length; i++, o += 8) dv.setFloat64(o, req.quantiles[i] as number, true)
  o = writeArr(dv, o, req.y)
  const yTs = req.y_ts
  if (yTs === null) {
    dv.setUint8(o++, TAG_NULL)
  } else {
    const step = gridStep(yTs)
    dv.setUint8(o++, step === null ? TAG_SOME : TAG_GRID)
    // Zoned and unzoned timestamps with the same instants may be sent upstream differently.
    dv.setUint8(o++, req.y_ts_zoned ? 1 : 0)
    if (step === null) {
      o = writeArr(dv, o, yTs)
    } else {
      dv.setUint32(o, yTs.length, true)
      dv.setFloat64(o + 4, yTs[0] as number, true)
      dv.setFloat64(o + 12, step, true)
      o += GRID_BYTES
    }
  }
  if (req.max_gap_minutes === null) {
    dv.setUint8(o++, TAG_NULL)
  } else {
    dv.setUint8(o++, TAG_SOME)
    dv.setFloat64(o, req.max_gap_minutes, true)
    o += 8
  }
  o = writeRecord(dv, o, req.x_past, xPast)
  o = writeRecord(dv, o, req.x_future, xFuture)
  o = writeStr(dv, o, req.transform.space)
  dv.setFloat64(o, req.transform.eps, true)
  o += 8
  o = writeStr(dv, o, model.provider)
  o = writeStr(dv, o, model.model_name)
  o = writeOptStr(dv, o, model.model_version)
  o = writeStr(dv, o, params)
  o = writeOptStr(dv, o, req.liquidity_bucket)
  o = writeOptStr(dv, o, req.category)
  o = writeOptStr(dv, o, req.tte_bucket)
  // A plain Uint8Array view: Buffer#subarray costs ~80 ns (species lookup) for nothing here.
  return new Uint8Array(bytes.buffer, 0, o)
}

/**
 * JSON with object keys sorted at every depth, so `{a:1,b:2}` and `{b:2,a:1}` are one model
 * configuration. Values are JSON values (validation guarantees it); like JSON.stringify,
 * `undefined` members are left out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i])
    return out + ']'
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    if (obj[k] === undefined) continue
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(obj[k])
    first = false
  }
  return out + '}'
}

const NO_KEYS: readonly string[] = []

function sortedKeys(rec: Readonly<Record<string, Float64Array>>): readonly string[] {
  const keys = Object.keys(rec)
  if (keys.length === 0) return NO_KEYS
  return keys.length === 1 ? keys : keys.sort()
}

/** count (u32) + first instant + step. */
const GRID_BYTES = 4 + 8 + 8

/**
 * The step of `ts` when every instant is exactly `ts[0] + i·step` (same bits, all finite), so
 * first, step and count rebuild the array bit for bit and the encoding stays one-to-one; else
 * null. Timestamps on the `freq` grid — nearly every request — then cost 20 bytes to hash instead
 * of 8 per point: for 288 points the key's bytes fall from 4 842 to 2 554 and `cacheKey` from
 * 4.5 µs to 3.4 µs, this check (~0.3 µs) included (perf/cache/key.bench.ts, "y_ts in the key",
 * this machine, two runs).
 */
function gridStep(ts: Float64Array): number | null {
  const n = ts.length
  if (n < 2) return null
  const first = ts[0] as number
  const step = (ts[1] as number) - first
  if (!Number.isFinite(first) || !Number.isFinite(step)) return null
  for (let i = 1; i < n; i++) if (!Object.is(ts[i], first + i * step)) return null
  return step
}

function strBytes(s: string): number {
  return 4 + 2 * s.length
}

function optStrBytes(s: string | null): number {
  return 1 + (s === null ? 0 : strBytes(s))
}

function arrBytes(a: Float64Array): number {
  return 4 + a.byteLength
}

function recordBytes(rec: Readonly<Record<string, Float64Array>>, keys: readonly string[]): number {
  let n = 4
  for (const k of keys) n += strBytes(k) + arrBytes(rec[k] as Float64Array)
  return n
}

function writeStr(dv: DataView, o: number, s: string): number {
  const n = s.length
  dv.setUint32(o, n, true)
  o += 4
  for (let i = 0; i < n; i++, o += 2) dv.setUint16(o, s.charCodeAt(i), true)
  return o
}

function writeOptStr(dv: DataView, o: number, s: string | null): number {
  if (s === null) {
    dv.setUint8(o, TAG_NULL)
    return o + 1
  }
  dv.setUint8(o, TAG_SOME)
  return writeStr(dv, o + 1, s)
}

function writeArr(dv: DataView, o: number, a: Float64Array): number {
  dv.setUint32(o, a.length, true)
  o += 4
  bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o)
  return o + a.byteLength
}

function writeRecord(dv: DataView, o: number, rec: Readonly<Record<string, Float64Array>>, keys: readonly string[]): number {
  dv.setUint32(o, keys.length, true)
  o += 4
  for (const k of keys) {
    o = writeStr(dv, o, k)
    o = writeArr(dv, o, rec[k] as Float64Array)
  }
  return o
}
