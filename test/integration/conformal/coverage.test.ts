import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { adjustBand, type ConformalAdjustment } from '../../../src/conformal/adjustment.js'
import { conformalMain } from '../../../src/conformal/fit-cli.js'
import { readStateFile, type ConformalState } from '../../../src/conformal/state-file.js'
import { seededNoise, type Noise } from '../../helpers/seeded-noise.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'

/**
 * The must-show of issue 11: bands fitted offline reach the target coverage on data they have
 * not seen, per segment. Three segments with their own bias and noise (in band half-widths):
 * one whose bands are too wide, one too narrow and off-centre, one far too narrow and off the
 * other way. The fitted file is then served to a fresh sample of the same distributions.
 *
 * ±2 % is about 2.6 standard deviations of one segment's realised coverage: with ~1 667
 * calibration pairs the coverage of a fitted band is itself random (Beta, sd ≈ 0.0075). Over
 * 300 seeds of this set-up, 14 of 900 segment fits fell outside ±2 % (mean deviation +0.0002);
 * the seeds here are fixed so the test is reproducible, not tuned.
 */

interface Segment {
  readonly liquidity_bucket: string
  readonly tte_bucket: string
  readonly key: string
  /** Outcome − band centre, on average. */
  readonly bias: number
  /** Outcome noise, in band half-widths. */
  readonly scale: number
}

const SEGMENTS: readonly Segment[] = [
  { liquidity_bucket: 'high', tte_bucket: '0_24h', key: 'liquidity_bucket=high|tte_bucket=0_24h', bias: 0, scale: 0.5 },
  { liquidity_bucket: 'low', tte_bucket: '0_24h', key: 'liquidity_bucket=low|tte_bucket=0_24h', bias: 0.02, scale: 1.5 },
  { liquidity_bucket: 'low', tte_bucket: '1_7d', key: 'liquidity_bucket=low|tte_bucket=1_7d', bias: -0.03, scale: 2.5 },
]

interface Pair {
  readonly q_low: number
  readonly median: number
  readonly q_high: number
  readonly actual: number
  readonly liquidity_bucket: string
  readonly tte_bucket: string
}

/** A band around a latent probability in [0.4, 0.6], half-width 0.01..0.03; the outcome is off by bias + scale·half-width·N(0, 1). */
function draw(noise: Noise, s: Segment): Pair {
  const p = noise.between(0.4, 0.6)
  const w = noise.between(0.01, 0.03)
  const actual = p + s.bias + s.scale * w * noise.normal()
  return { q_low: p - w, median: p, q_high: p + w, actual, liquidity_bucket: s.liquidity_bucket, tte_bucket: s.tte_bucket }
}

function sample(seed: number, perSegment: readonly number[]): Pair[][] {
  const noise = seededNoise(seed)
  return SEGMENTS.map((s, i) => Array.from({ length: perSegment[i]! }, () => draw(noise, s)))
}

function coverage(pairs: readonly Pair[], a: ConformalAdjustment): number {
  let covered = 0
  for (const p of pairs) {
    const band = adjustBand(p.q_low, p.median, p.q_high, a)
    if (band.q10 <= p.actual && p.actual <= band.q90) covered++
  }
  return covered / pairs.length
}

const TARGET = 0.9
const ADJUSTMENT_KEYS = ['center_shift', 'quantile_level', 'sample_size', 'target_coverage', 'width_scale']

describe('conformal fit: coverage on a fresh sample', () => {
  const tmp = makeTmpDir('tsfm-conformal-')
  afterAll(() => tmp.remove())

  // 5 000 calibration pairs, 1 667 + 1 667 + 1 666, interleaved as a pipeline would write them.
  const calibration = sample(11, [1667, 1667, 1666])
  const lines = calibration[0]!.flatMap((_, i) => calibration.map((seg) => seg[i]).filter((p) => p !== undefined))
  const input = tmp.write('pairs.jsonl', lines.map((p) => JSON.stringify(p)).join('\n') + '\n')
  const out = `${tmp.dir}/state.json`
  // Fresh outcomes of the same distributions, larger so the check measures the fit, not this sample.
  const fresh = sample(2026, [20_000, 20_000, 20_000])

  let state: ConformalState
  let summary = ''

  it('fits 5 000 pairs by liquidity and time-to-expiry into three segments and says so', async () => {
    expect(lines).toHaveLength(5000)
    expect(lines.every((p) => p.actual >= 0 && p.actual <= 1)).toBe(true)
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      summary += String(chunk)
      return true
    })
    try {
      const code = await conformalMain(['fit', '--input', input, '--out', out, '--coverage', String(TARGET), '--segment-fields', 'liquidity_bucket,tte_bucket'])
      expect(code).toBe(0)
    } finally {
      write.mockRestore()
    }
    expect(summary).toContain('Fitted 5000 pairs')
    expect(summary).toContain('3 segment(s) by liquidity_bucket,tte_bucket fitted')
    state = await readStateFile(out)
    expect([...state.segments.keys()]).toEqual(SEGMENTS.map((s) => s.key))
    expect(state.segmentFields).toEqual(['liquidity_bucket', 'tte_bucket'])
  })

  it('learns each segment’s bias as its centre shift and its noise as its width scale', () => {
    for (const s of SEGMENTS) {
      const a = state.segments.get(s.key)!
      expect(Math.abs(a.center_shift - s.bias)).toBeLessThan(0.005)
      // |N(0, 1)| has its 90th percentile at 1.645.
      expect(a.width_scale / (s.scale * 1.645)).toBeGreaterThan(0.9)
      expect(a.width_scale / (s.scale * 1.645)).toBeLessThan(1.1)
      expect(a.sample_size).toBe(s.key.endsWith('1_7d') ? 1666 : 1667)
    }
  })

  it('covers 90 % ± 2 % of fresh outcomes in each segment and overall with the segment’s adjustment', () => {
    let covered = 0
    let total = 0
    for (const [i, s] of SEGMENTS.entries()) {
      const c = coverage(fresh[i]!, state.segments.get(s.key)!)
      expect(c, s.key).toBeGreaterThanOrEqual(TARGET - 0.02)
      expect(c, s.key).toBeLessThanOrEqual(TARGET + 0.02)
      covered += c * fresh[i]!.length
      total += fresh[i]!.length
    }
    expect(Math.abs(covered / total - TARGET)).toBeLessThanOrEqual(0.02)
  })

  it('needed the segments: the raw bands and the pooled default miss the target in some segment', () => {
    const identity: ConformalAdjustment = { target_coverage: TARGET, quantile_level: TARGET, center_shift: 0, width_scale: 1, sample_size: 0 }
    const raw = SEGMENTS.map((_, i) => coverage(fresh[i]!, identity))
    const pooled = SEGMENTS.map((_, i) => coverage(fresh[i]!, state.default))
    expect(raw.some((c) => Math.abs(c - TARGET) > 0.05)).toBe(true)
    expect(pooled.some((c) => Math.abs(c - TARGET) > 0.05)).toBe(true)
  })

  it('writes the Python service’s schema 2 file, keys exactly as Python writes them', () => {
    const json = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>
    expect(Object.keys(json)).toEqual(['adjustment', 'default_adjustment', 'metadata', 'schema_version', 'segment_fields', 'segments', 'updated_at'])
    expect(json.schema_version).toBe(2)
    expect(Number.isNaN(Date.parse(json.updated_at))).toBe(false)
    for (const a of [json.adjustment, json.default_adjustment, ...Object.values(json.segments)]) expect(Object.keys(a)).toEqual(ADJUSTMENT_KEYS)
    expect(json.adjustment).toEqual(json.default_adjustment)
    expect(json.default_adjustment.sample_size).toBe(5000)
    expect(json.metadata).toMatchObject({
      tool: 'tsfm-runner conformal fit',
      source: 'pairs.jsonl',
      pair_count: 5000,
      target_coverage: TARGET,
      min_samples: 100,
      segments_fitted: Object.fromEntries(SEGMENTS.map((s) => [s.key, s.key.endsWith('1_7d') ? 1666 : 1667])),
      segments_skipped: {},
    })
    expect(state.schemaVersion).toBe(2)
    expect(state.default).toEqual(json.default_adjustment)
  })
})
