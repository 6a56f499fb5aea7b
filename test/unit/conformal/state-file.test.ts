import { readFileSync, readdirSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { ConformalStateError, decodeState, encodeState, readStateFile, writeFileAtomic } from '../../../src/conformal/state-file.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'

const A = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0.05, width_scale: 1.3, sample_size: 200 }
const B = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0.2, width_scale: 1.5, sample_size: 120 }
const tmp = makeTmpDir('tsfm-state-file-')
afterAll(() => tmp.remove())

function error(payload: unknown): string {
  try {
    decodeState(payload)
  } catch (e) {
    expect(e).toBeInstanceOf(ConformalStateError)
    return (e as Error).message
  }
  throw new Error('decodeState accepted it')
}

describe('the conformal state file', () => {
  it('reads the default from default_adjustment, else adjustment, else the root object', () => {
    expect(decodeState({ default_adjustment: A, adjustment: B }).default).toEqual(A)
    expect(decodeState({ adjustment: B }).default).toEqual(B)
    expect(decodeState({ ...A, schema_version: 1 }).default).toEqual(A)
  })

  it('reads schema 2 segments and skips entries that are not objects, as the Python loader does', () => {
    const s = decodeState({ schema_version: 2, default_adjustment: A, segment_fields: ['liquidity_bucket'], segments: { 'liquidity_bucket=high': B, broken: 3 } })
    expect([...s.segments]).toEqual([['liquidity_bucket=high', B]])
    expect(s.segmentFields).toEqual(['liquidity_bucket'])
    expect(s.schemaVersion).toBe(2)
  })

  it("takes numeric strings as Python's float() does and truncates sample_size as int() does", () => {
    expect(decodeState({ adjustment: { ...A, center_shift: '0.05', sample_size: 200.9 } }).default).toEqual(A)
  })

  it('names the field and quotes the value it cannot use', () => {
    expect(error({ default_adjustment: { ...A, width_scale: 'wide' } })).toBe('default_adjustment.width_scale should be a finite number, got "wide"')
    expect(error({ adjustment: { ...A, center_shift: null } })).toBe('adjustment.center_shift should be a finite number, got null')
    expect(error({ default_adjustment: A, segments: { k: { ...A, quantile_level: 'NaN' } } })).toBe('segments["k"].quantile_level should be a finite number, got "NaN"')
    expect(error({ default_adjustment: { ...A, width_scale: -1 } })).toBe('default_adjustment.width_scale should be ≥ 0, got -1')
    expect(error([1, 2])).toMatch(/should hold a JSON object, got \[1,2\]/)
  })

  it("writes the Python service's schema: 1 without segments, 2 with, keys sorted", () => {
    const one = JSON.parse(encodeState({ default: A, segments: new Map(), segmentFields: [], metadata: { source: 'x' } }, '2026-02-20T00:00:00+00:00'))
    expect(Object.keys(one)).toEqual(['adjustment', 'default_adjustment', 'metadata', 'schema_version', 'updated_at'])
    expect(one.schema_version).toBe(1)
    expect(Object.keys(one.default_adjustment)).toEqual(['center_shift', 'quantile_level', 'sample_size', 'target_coverage', 'width_scale'])
    const two = JSON.parse(encodeState({ default: A, segments: new Map([['liquidity_bucket=high', B]]), segmentFields: ['liquidity_bucket'], metadata: {} }, 'now'))
    expect(Object.keys(two)).toEqual(['adjustment', 'default_adjustment', 'metadata', 'schema_version', 'segment_fields', 'segments', 'updated_at'])
    expect(two.schema_version).toBe(2)
    expect(decodeState(two).segments.get('liquidity_bucket=high')).toEqual(B)
  })

  it('reads back what it writes, through a temp file and a rename that leave nothing behind', async () => {
    const path = `${tmp.dir}/state.json`
    await writeFileAtomic(path, encodeState({ default: A, segments: new Map([['k', B]]), segmentFields: ['k'], metadata: {} }, 'now'))
    const s = await readStateFile(path)
    expect(s.default).toEqual(A)
    expect(s.segments.get('k')).toEqual(B)
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true)
  })

  it('says which file it could not read or parse', async () => {
    await expect(readStateFile(`${tmp.dir}/missing.json`)).rejects.toThrow(`cannot read ${tmp.dir}/missing.json: ENOENT`)
    const bad = tmp.write('bad.json', '{"adjustment": ')
    await expect(readStateFile(bad)).rejects.toThrow(`${bad} is not JSON`)
  })
})
