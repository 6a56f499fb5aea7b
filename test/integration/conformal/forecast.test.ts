import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ConformalAdjustment } from '../../../src/conformal/adjustment.js'
import { encodeState, writeFileAtomic } from '../../../src/conformal/state-file.js'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { startScriptedTollama, type ScriptedTollama } from '../../helpers/scripted-tollama.js'
import { makeTmpDir, type TmpDir } from '../../helpers/tmp-files.js'

/**
 * The conformal vectors of the Python service's own tests (issue 11), through `POST
 * /tsfm/forecast`: request R against an upstream that answers the logits
 * {0.1: [0.2, 0.3], 0.5: [0.4, 0.5], 0.9: [0.6, 0.7]}.
 */
const UPSTREAM = { '0.1': [0.2, 0.3], '0.5': [0.4, 0.5], '0.9': [0.6, 0.7] }

function requestR(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    market_id: 'm-1',
    as_of_ts: '2026-02-20T00:00:00+00:00',
    freq: '5m',
    horizon_steps: 2,
    quantiles: [0.1, 0.5, 0.9],
    y: new Array(64).fill(0.3),
    transform: { space: 'logit', eps: 1e-6 },
    ...extra,
  }
}

const adj = (target_coverage: number, quantile_level: number, center_shift: number, width_scale: number, sample_size: number): ConformalAdjustment => ({ target_coverage, quantile_level, center_shift, width_scale, sample_size })

function stateText(def: ConformalAdjustment, segments: Record<string, ConformalAdjustment> = {}): string {
  const m = new Map(Object.entries(segments))
  return encodeState({ default: def, segments: m, segmentFields: m.size > 0 ? ['liquidity_bucket', 'tte_bucket'] : [], metadata: { source: 'test' } }, '2026-02-20T00:00:00+00:00')
}

function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12)
}

let upstream: ScriptedTollama
let tmp: TmpDir
const daemons: TestDaemon[] = []

async function daemonWith(statePath: string | null, watchMs = 0): Promise<TestDaemon> {
  // No rate limit: the reload test's clients send as fast as answers come (they met 429s).
  const d = await startTestDaemon({ config: { tsfm: { adapter: { base_url: upstream.url }, conformal: { state_path: statePath, watch_interval_ms: watchMs }, server: { rate_limit: { enabled: false } } } } })
  daemons.push(d)
  return d
}

beforeAll(async () => {
  upstream = await startScriptedTollama(UPSTREAM)
  tmp = makeTmpDir('tsfm-conformal-')
})
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.close()))
})
afterAll(async () => {
  await upstream.close()
  tmp.remove()
})

describe('POST /tsfm/forecast with a conformal state file', () => {
  it("gives the Python service's conformal_last_step for a default adjustment, to 1e-12", async () => {
    const d = await daemonWith(tmp.write('default.json', stateText(adj(0.8, 0.9, 0.05, 1.3, 200))))
    const r = await call(d.url, '/tsfm/forecast', { body: requestR() })
    expect(r.status).toBe(200)
    expect(r.body.meta.runtime).toBe('tollama')
    expect(r.body.meta.conformal_state_loaded).toBe(true)
    expect(r.body.meta.conformal_segment_key).toBeNull()
    const c = r.body.conformal_last_step
    expectClose(c.q10, 0.611524915220125)
    expectClose(c.q50, 0.6724593312018546)
    expectClose(c.q90, 0.7333937471835843)
    expect(c).toMatchObject({ band_calibration: 'conformal', conformal_target_coverage: 0.8, conformal_quantile_level: 0.9, conformal_center_shift: 0.05, conformal_width_scale: 1.3 })
  })

  it('uses the first segment of the request present in the file, else the default', async () => {
    const file = tmp.write('segments.json', stateText(adj(0.8, 0.9, 0.01, 1.1, 200), { 'liquidity_bucket=high|tte_bucket=0_24h': adj(0.8, 0.9, 0.2, 1.5, 120) }))
    const d = await daemonWith(file)
    const high = await call(d.url, '/tsfm/forecast', { body: requestR({ liquidity_bucket: 'high', tte_bucket: '0_24h' }) })
    expect(high.body.meta.conformal_segment_key).toBe('liquidity_bucket=high|tte_bucket=0_24h')
    expectClose(high.body.conformal_last_step.q10, 0.7521503896844743)
    expectClose(high.body.conformal_last_step.q50, 0.8224593312018547)
    expectClose(high.body.conformal_last_step.q90, 0.892768272719235)
    const mid = await call(d.url, '/tsfm/forecast', { body: requestR({ liquidity_bucket: 'mid', tte_bucket: '0_24h' }) })
    expect(mid.body.meta.conformal_state_loaded).toBe(true)
    expect(mid.body.meta.conformal_segment_key).toBeNull()
    expectClose(mid.body.conformal_last_step.q10, 0.5808994407557757)
    expectClose(mid.body.conformal_last_step.q50, 0.6324593312018546)
    expectClose(mid.body.conformal_last_step.q90, 0.6840192216479335)
  })

  it('answers conformal_state_loaded false and conformal_last_step null when the file does not exist', async () => {
    const d = await daemonWith(`${tmp.dir}/not-there.json`)
    const r = await call(d.url, '/tsfm/forecast', { body: requestR() })
    expect(r.status).toBe(200)
    expect(r.body.meta.conformal_state_loaded).toBe(false)
    expect(r.body.meta.conformal_segment_key).toBeNull()
    expect(r.body.conformal_last_step).toBeNull()
    expect((await call(d.url, '/tsfm/state')).body.conformal).toMatchObject({ loaded: false, segments: 0 })
  })

  it('never changes yhat_q itself', async () => {
    const plain = await daemonWith(null)
    const adjusted = await daemonWith(tmp.write('yhat.json', stateText(adj(0.8, 0.9, 0.05, 1.3, 200))))
    const a = await call(plain.url, '/tsfm/forecast', { body: requestR() })
    const b = await call(adjusted.url, '/tsfm/forecast', { body: requestR() })
    expect(b.body.yhat_q).toEqual(a.body.yhat_q)
    expect(a.body.conformal_last_step).toBeNull()
  })

  it('adjusts cached and baseline answers alike', async () => {
    const d = await daemonWith(tmp.write('all.json', stateText(adj(0.8, 0.9, 0.05, 1.3, 200))))
    await call(d.url, '/tsfm/forecast', { body: requestR() })
    const hit = await call(d.url, '/tsfm/forecast', { body: requestR() })
    expect(hit.body.meta.cache_hit).toBe(true)
    expectClose(hit.body.conformal_last_step.q50, 0.6724593312018546)
    const short = await call(d.url, '/tsfm/forecast', { body: requestR({ market_id: 'm-short', y: new Array(8).fill(0.3) }) })
    expect(short.body.meta.runtime).toBe('baseline')
    const q = short.body.yhat_q
    const lo = q['0.1'][1] as number
    const mid = q['0.5'][1] as number
    const hi = q['0.9'][1] as number
    expectClose(short.body.conformal_last_step.q50, mid + 0.05)
    expectClose(short.body.conformal_last_step.q10, mid + 0.05 - ((hi - lo) / 2) * 1.3)
  })
})

describe('reloading the conformal state file', () => {
  it('switches every answer from one state to the other, under load, never mixing the two', async () => {
    const a = adj(0.8, 0.9, 0.05, 1.3, 200)
    const b = adj(0.9, 0.95, -0.04, 0.7, 300)
    // Each state has a segment for half the markets: the answer's key must be its state's too.
    const SEG = 'liquidity_bucket=high'
    const segA = adj(0.8, 0.9, 0.11, 1.11, 50)
    const segB = adj(0.9, 0.95, -0.11, 0.91, 60)
    const textA = stateText(a, { [SEG]: segA })
    const textB = stateText(b, { 'liquidity_bucket=low': segB })
    const file = tmp.write('reload.json', textA)
    const d = await daemonWith(file, 5)
    let stop = false
    const seen = { a: 0, b: 0 }
    const problems: string[] = []
    const client = async (k: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        // Distinct markets: every answer is computed, none joins another's flight.
        const bucket = i % 2 === 0 ? 'high' : 'low'
        const r = await call(d.url, '/tsfm/forecast', { body: requestR({ market_id: `m-${k}-${i}`, liquidity_bucket: bucket }) })
        const c = r.body.conformal_last_step
        if (r.status !== 200 || c === null || c === undefined) {
          problems.push(`answer ${r.status} without a conformal step: ${r.text.slice(0, 200)}`)
          continue
        }
        const shift = c.conformal_center_shift
        const key = r.body.meta.conformal_segment_key
        // State A: high → its segment, low → its default; state B: low → its segment, high → its default.
        const which =
          shift === a.center_shift && bucket === 'low' && key === null ? a
          : shift === segA.center_shift && bucket === 'high' && key === SEG ? segA
          : shift === b.center_shift && bucket === 'high' && key === null ? b
          : shift === segB.center_shift && bucket === 'low' && key === 'liquidity_bucket=low' ? segB
          : null
        if (which === null) {
          problems.push(`unknown state ${JSON.stringify(c)}`)
          continue
        }
        seen[which === a || which === segA ? 'a' : 'b']++
        // Every field of the answer from that one state.
        const q = r.body.yhat_q
        const lo = q['0.1'][1] as number
        const mid = q['0.5'][1] as number
        const hi = q['0.9'][1] as number
        const ok =
          c.conformal_width_scale === which.width_scale &&
          c.conformal_target_coverage === which.target_coverage &&
          c.conformal_quantile_level === which.quantile_level &&
          Math.abs(c.q50 - (mid + which.center_shift)) <= 1e-12 &&
          Math.abs(c.q90 - (mid + which.center_shift + ((hi - lo) / 2) * which.width_scale)) <= 1e-12
        if (!ok) problems.push(`mixed answer ${JSON.stringify(c)}`)
      }
    }
    const clients = [0, 1, 2, 3].map(client)
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 60))
      await writeFileAtomic(file, round % 2 === 0 ? textB : textA)
      // The watcher and an explicit reload (SIGHUP's path) racing each other.
      if (round % 3 === 0) await d.runner.reloadConformal()
    }
    await new Promise((r) => setTimeout(r, 60))
    stop = true
    await Promise.all(clients)
    expect(problems.slice(0, 5)).toEqual([])
    expect(seen.a).toBeGreaterThan(0)
    expect(seen.b).toBeGreaterThan(0)
  })

  it('keeps the state in use when the new file is invalid', async () => {
    const file = tmp.write('keep.json', stateText(adj(0.8, 0.9, 0.05, 1.3, 200)))
    const d = await daemonWith(file)
    await writeFileAtomic(file, '{"default_adjustment": {"target_coverage": 0.8, "quantile_level": 0.9, "center_shift": "abc"')
    expect(await d.runner.reloadConformal()).toMatchObject({ kind: 'kept' })
    const r = await call(d.url, '/tsfm/forecast', { body: requestR() })
    expectClose(r.body.conformal_last_step.q50, 0.6724593312018546)
  })
})
