import { readFileSync, writeFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeState, readStateFile } from '../../../src/conformal/state-file.js'
import { isTsfmError } from '../../../src/errors.js'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { startScriptedTollama, type ScriptedTollama } from '../../helpers/scripted-tollama.js'
import { makeTmpDir, type TmpDir } from '../../helpers/tmp-files.js'

/**
 * `POST /tsfm/outcomes` and `runner.observe`: resolved outcomes matched to the bands served,
 * learned from online (conformal.online), persisted to the state file.
 */
const UPSTREAM = { '0.1': [0.2, 0.3], '0.5': [0.4, 0.5], '0.9': [0.6, 0.7] }
// Served band of the last step (sigmoid of the logits above): 0.5744 … 0.6225 … 0.6682.
const LOW = 1 / (1 + Math.exp(-0.3))
const HIGH = 1 / (1 + Math.exp(-0.7))
// Resolved 5 minutes ago (as_of + 2 × 5 min), inside outcome_grace_s (30 min).
const RECENT = Math.floor(Date.now() / 1000) - 15 * 60

const A = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0, width_scale: 1, sample_size: 100 }

function forecast(market: string, asOf: number | string = RECENT): Record<string, unknown> {
  return { market_id: market, as_of_ts: asOf, freq: '5m', horizon_steps: 2, y: new Array(64).fill(0.3) }
}

let upstream: ScriptedTollama
let tmp: TmpDir
const daemons: TestDaemon[] = []

async function daemon(online: Record<string, unknown>, statePath: string | null = null): Promise<TestDaemon> {
  // No rate limit: these tests send hundreds of requests back to back.
  const d = await startTestDaemon({ config: { tsfm: { adapter: { base_url: upstream.url }, conformal: { state_path: statePath, watch_interval_ms: 0, online }, server: { rate_limit: { enabled: false } } } } })
  daemons.push(d)
  return d
}

beforeAll(async () => {
  upstream = await startScriptedTollama(UPSTREAM)
  tmp = makeTmpDir('tsfm-outcomes-')
})
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.close()))
})
afterAll(async () => {
  await upstream.close()
  tmp.remove()
})

describe('POST /tsfm/outcomes', () => {
  it('answers 409 TSFM_CALIBRATION_OFF while online calibration is off', async () => {
    const d = await daemon({ enabled: false })
    const r = await call(d.url, '/tsfm/outcomes', { body: { outcomes: [{ market_id: 'm', as_of_ts: RECENT, realized: 0.5 }] } })
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('TSFM_CALIBRATION_OFF')
  })

  it('matches outcomes to the bands served, counts the rest, and keeps early ones for later', async () => {
    const d = await daemon({ enabled: true })
    for (const m of ['m-a', 'm-b']) expect((await call(d.url, '/tsfm/forecast', { body: forecast(m) })).status).toBe(200)
    const now = Math.floor(Date.now() / 1000)
    expect((await call(d.url, '/tsfm/forecast', { body: forecast('m-now', now) })).body.meta.conformal_state_loaded).toBe(true)
    const r = await call(d.url, '/tsfm/outcomes', {
      body: {
        outcomes: [
          // Same instant written three ways: epoch seconds, Z, +00:00.
          { market_id: 'm-a', as_of_ts: new Date(RECENT * 1000).toISOString(), realized: [0.61, 0.62], liquidity_bucket: 'high' },
          { market_id: 'm-b', as_of_ts: RECENT, realized: 0.9 },
          { market_id: 'm-b', as_of_ts: new Date(RECENT * 1000).toISOString().replace('.000Z', '+00:00'), realized: 0.9 },
          { market_id: 'never-served', as_of_ts: RECENT, realized: 0.5 },
          { market_id: 'm-now', as_of_ts: now, realized: 0.5 },
        ],
      },
    })
    expect(r.status).toBe(200)
    // m-b's second outcome finds its band already resolved: unmatched, not a second lesson.
    expect(r.body).toEqual({ received: 5, matched: 2, unmatched: 2, early: 1 })
    const state = (await call(d.url, '/tsfm/state')).body.conformal
    expect(state.online).toMatchObject({ observed: 2, pending: 1, matched: 2, unmatched: 2, early: 1 })
    const metrics = (await call(d.url, '/metrics')).text
    expect(metrics).toContain('tsfm_conformal_outcomes_total{result="matched"} 2')
    expect(metrics).toMatch(/tsfm_conformal_coverage\{segment="default"\} 0\.5\n/)
    expect(metrics).toMatch(/tsfm_conformal_width\{segment="default"\} 0\.09/)
  })

  it('matches an outcome that says its horizon only to a band of that horizon', async () => {
    const d = await daemon({ enabled: true })
    await call(d.url, '/tsfm/forecast', { body: forecast('m-h') })
    const wrong = await call(d.url, '/tsfm/outcomes', { body: { outcomes: [{ market_id: 'm-h', as_of_ts: RECENT, realized: [0.6, 0.61, 0.62] }] } })
    expect(wrong.body).toEqual({ received: 1, matched: 0, unmatched: 1, early: 0 })
    const said = await call(d.url, '/tsfm/outcomes', { body: { outcomes: [{ market_id: 'm-h', as_of_ts: RECENT, realized: 0.62, horizon_steps: 12 }] } })
    expect(said.body).toEqual({ received: 1, matched: 0, unmatched: 1, early: 0 })
    const right = await call(d.url, '/tsfm/outcomes', { body: { outcomes: [{ market_id: 'm-h', as_of_ts: RECENT, realized: 0.62, horizon_steps: 2 }] } })
    expect(right.body).toEqual({ received: 1, matched: 1, unmatched: 0, early: 0 })
    const clash = await call(d.url, '/tsfm/outcomes', { body: { outcomes: [{ market_id: 'm-h', as_of_ts: RECENT, realized: [0.6, 0.62], horizon_steps: 3 }] } })
    expect(clash.status).toBe(400)
    expect(clash.body.error.message).toBe('outcomes[0].realized must have one value per step (horizon_steps 3), got 2 items')
  })

  it('counts outcomes from the future as early or unmatched, never learning from them', async () => {
    const d = await daemon({ enabled: true })
    await call(d.url, '/tsfm/forecast', { body: forecast('m-2099', '2099-01-01T00:00:00Z') })
    const r = await call(d.url, '/tsfm/outcomes', {
      body: [
        { market_id: 'm-2099', as_of_ts: '2099-01-01T00:00:00Z', realized: 0.5 },
        { market_id: 'm-unseen', as_of_ts: '2099-01-01T00:00:00Z', realized: 0.5 },
      ],
    })
    expect(r.body).toEqual({ received: 2, matched: 0, unmatched: 1, early: 1 })
    expect((await call(d.url, '/tsfm/state')).body.conformal.online.observed).toBe(0)
  })

  it('answers bad outcomes with a 400 naming the field, never a 5xx', async () => {
    const d = await daemon({ enabled: true })
    const cases: Array<[unknown, string, string]> = [
      [{ outcomes: [{ market_id: 'm', as_of_ts: RECENT, realized: 'NaN' }] }, 'TSFM_OUTCOMES', 'outcomes[0].realized must be a realised probability, a finite number in [0, 1], got "NaN"'],
      [{ outcomes: [{ market_id: 'm', as_of_ts: RECENT, realized: [0.5, 1.5] }] }, 'TSFM_OUTCOMES', 'outcomes[0].realized[1] must be a realised probability, a finite number in [0, 1], got 1.5'],
      [{ outcomes: [{ market_id: 7, as_of_ts: RECENT, realized: 0.5 }] }, 'TSFM_FIELD_TYPE', 'outcomes[0].market_id must be a string, got 7'],
      [{ outcomes: [{ market_id: 'm', as_of_ts: 'yesterday', realized: 0.5 }] }, 'TSFM_TIMESTAMP', 'outcomes[0].as_of_ts must be an ISO-8601 timestamp or epoch seconds between 1970 and 2100 (the forecast\'s as_of_ts), got "yesterday"'],
      [{ outcomes: [{ market_id: 'm', as_of_ts: RECENT }] }, 'TSFM_FIELD_REQUIRED', 'outcomes[0].realized is required, got undefined'],
      [{ outcomes: 'all' }, 'TSFM_OUTCOMES', 'outcomes must be an array of outcomes, got "all"'],
      [{}, 'TSFM_FIELD_REQUIRED', 'outcomes is required, got undefined'],
      [{ outcomes: new Array(2001).fill(0) }, 'TSFM_OUTCOMES', 'outcomes must have at most 2000 items, got 2001'],
    ]
    for (const [body, code, message] of cases) {
      const r = await call(d.url, '/tsfm/outcomes', { body })
      expect(r.status, message).toBe(400)
      expect(r.body.error).toEqual({ code, message, path: expect.any(String) })
    }
    const big = await call(d.url, '/tsfm/outcomes', { raw: `{"outcomes":[${'0,'.repeat(5_000_000)}0]}` })
    expect(big.status).toBe(413)
    expect(big.body.error.code).toBe('TSFM_BODY_TOO_LARGE')
  })

  it('never answers a 5xx, whatever JSON it is sent (fuzz)', async () => {
    const d = await daemon({ enabled: true })
    const outcome = fc.record(
      { market_id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), as_of_ts: fc.oneof(fc.integer(), fc.string(), fc.double()), realized: fc.oneof(fc.double(), fc.array(fc.double(), { maxLength: 3 }), fc.string()) },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ outcomes: fc.array(outcome, { maxLength: 5 }) }), fc.jsonValue()), async (body) => {
        const r = await call(d.url, '/tsfm/outcomes', { raw: JSON.stringify(body) ?? 'null' })
        return r.status < 500
      }),
      { numRuns: 150 },
    )
  })
})

describe('online calibration', () => {
  it('learns a wider band from outcomes the served band misses, and serves it', async () => {
    const d = await daemon({ enabled: true, min_samples: 50, window: 100 }, null)
    const before = (await call(d.url, '/tsfm/forecast', { body: forecast('warm') })).body.conformal_last_step
    expect(before.conformal_width_scale).toBe(1)
    const outcomes: unknown[] = []
    for (let i = 0; i < 120; i++) {
      const market = `learn-${i}`
      await call(d.url, '/tsfm/forecast', { body: forecast(market) })
      // Half the outcomes land outside the raw band, well beyond its ends.
      const realized = i % 2 === 0 ? 0.62 : i % 4 === 1 ? LOW - 0.05 : HIGH + 0.05
      outcomes.push({ market_id: market, as_of_ts: RECENT, realized })
    }
    expect(d.runner.observe({ outcomes })).toEqual({ received: 120, matched: 120, unmatched: 0, early: 0 })
    const after = (await call(d.url, '/tsfm/forecast', { body: forecast('after') })).body.conformal_last_step
    expect(after.conformal_width_scale).toBeGreaterThan(1.5)
    expect(after.q90 - after.q10).toBeGreaterThan(1.5 * (HIGH - LOW))
  })

  it('writes what it learned to the state file on drain, and a restart serves it', async () => {
    const path = tmp.write('learned.json', encodeState({ default: A, segments: new Map(), segmentFields: [], metadata: { source: 'test' } }, 'before'))
    const d = await daemon({ enabled: true, min_samples: 20, window: 50 }, path)
    const outcomes: unknown[] = []
    for (let i = 0; i < 40; i++) {
      await call(d.url, '/tsfm/forecast', { body: forecast(`p-${i}`) })
      outcomes.push({ market_id: `p-${i}`, as_of_ts: RECENT, realized: i % 2 === 0 ? LOW - 0.1 : HIGH + 0.1 })
    }
    d.runner.observe(outcomes)
    // Bad input in between never touches the file.
    expect(() => d.runner.observe({ outcomes: [{ market_id: 'x', as_of_ts: RECENT, realized: Number.NaN }] })).toThrow(/finite number in \[0, 1\], got NaN/)
    const learned = (await call(d.url, '/tsfm/forecast', { body: forecast('q') })).body.conformal_last_step.conformal_width_scale
    expect(learned).toBeGreaterThan(1)
    await daemons.splice(0, 1)[0]!.close()
    const file = await readStateFile(path)
    expect(file.default.width_scale).toBe(learned)
    expect(file.metadata.source).toBe('test')
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')))).toEqual(['adjustment', 'default_adjustment', 'metadata', 'schema_version', 'updated_at'])
    const again = await daemon({ enabled: true, min_samples: 20, window: 50 }, path)
    expect((await call(again.url, '/tsfm/forecast', { body: forecast('r') })).body.conformal_last_step.conformal_width_scale).toBe(learned)
  })

  it('leaves a state file someone else wrote in the meantime as they wrote it, and loads it', async () => {
    const path = tmp.write('theirs.json', encodeState({ default: A, segments: new Map(), segmentFields: [], metadata: { source: 'test' } }, 'before'))
    const d = await daemon({ enabled: true, min_samples: 20, window: 50 }, path)
    const outcomes: unknown[] = []
    for (let i = 0; i < 40; i++) {
      await call(d.url, '/tsfm/forecast', { body: forecast(`t-${i}`) })
      outcomes.push({ market_id: `t-${i}`, as_of_ts: RECENT, realized: i % 2 === 0 ? LOW - 0.1 : HIGH + 0.1 })
    }
    d.runner.observe(outcomes)
    // A refit lands while the runner has unwritten learning (no watcher: watch_interval_ms 0).
    const theirs = encodeState({ default: { ...A, width_scale: 0.77 }, segments: new Map(), segmentFields: [], metadata: { source: 'refit' } }, 'refit')
    writeFileSync(path, theirs)
    await daemons.splice(0, 1)[0]!.close()
    expect(readFileSync(path, 'utf8')).toBe(theirs)
  })

  it('rejects bad outcomes in the embedding API with a TsfmError, not a crash', () => {
    return daemon({ enabled: true }).then((d) => {
      for (const bad of [null, 5, 'x', { outcomes: [null] }, [{ market_id: 'm' }]]) {
        let thrown: unknown = null
        try {
          d.runner.observe(bad)
        } catch (e) {
          thrown = e
        }
        expect(isTsfmError(thrown), JSON.stringify(bad)).toBe(true)
      }
    })
  })
})
