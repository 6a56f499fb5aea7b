import { describe, expect, it } from 'vitest'
import { Answers, harness, marketBody } from '../../helpers/supervisor-harness.js'

/**
 * One lane per model (SPEC §3 step 8, §5): its own breaker and its own mode. A model whose
 * upstream runner fails must not refuse, degrade or bypass another model's requests.
 */
describe('upstream lanes in the supervisor', () => {
  it('keep a healthy model normal and served upstream while another model fails into baseline-only', async () => {
    const h = harness()
    const a = new Answers()
    const b = new Answers()
    for (let s = 0; s < 90; s++) {
      h.clock.advance(1000)
      h.sup.submit(h.request(marketBody(`a-${s}`, 64, { model: { model_name: 'model-a' } })), a)
      h.sup.submit(h.request(marketBody(`b-${s}`, 64, { model: { model_name: 'model-b' } })), b)
      for (const job of h.upstream.pending) {
        if (job.model === 'model-b') h.upstream.fail(job, 'upstream_timeout')
        else h.upstream.succeed(job)
      }
    }
    const lanes = h.sup.state().lanes
    expect(lanes['model-b']?.breaker?.state).not.toBe('closed')
    expect(lanes['model-b']?.mode?.mode).toBe('baseline-only')
    expect(lanes['model-a']?.breaker?.state).toBe('closed')
    expect(lanes['model-a']?.mode?.mode).toBe('normal')
    expect(a.answers.every((r) => r.meta.runtime === 'tollama' && r.meta.degradation_state === 'normal')).toBe(true)
    expect(b.answers.at(-1)?.meta).toMatchObject({ runtime: 'baseline', degradation_state: 'baseline-only' })
    await new Promise((r) => setImmediate(r))
  })

  it('probe each lane in trouble with its own model', () => {
    const h = harness()
    const b = new Answers()
    for (let s = 0; s < 70; s++) {
      h.clock.advance(1000)
      h.sup.submit(h.request(marketBody(`b-${s}`, 64, { model: { model_name: 'model-b' } })), b)
      for (const job of h.upstream.pending) h.upstream.fail(job, 'upstream_http_503')
    }
    expect(h.sup.state().lanes['model-b']?.mode?.mode).toBe('baseline-only')
    const before = h.upstream.jobs.length
    h.clock.advance(10_000)
    const probes = h.upstream.jobs.slice(before)
    expect(probes.length).toBeGreaterThan(0)
    expect(probes.every((j) => j.model === 'model-b' && j.series_id === '__tsfm_probe__' && j.high)).toBe(true)
  })
})
