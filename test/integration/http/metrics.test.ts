import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

/** SPEC §8: every metric, its type, and no unbounded label. */
const EXPECTED: Record<string, string> = {
  tsfm_request_latency_ms: 'HISTOGRAM',
  tsfm_queue_wait_ms: 'HISTOGRAM',
  tollama_latency_ms: 'HISTOGRAM',
  tsfm_requests_total: 'COUNTER',
  tsfm_fallback_total: 'COUNTER',
  tsfm_cache_requests_total: 'COUNTER',
  tsfm_degradation_mode: 'GAUGE',
  tsfm_circuit_breaker_state: 'GAUGE',
  tsfm_breaker_transitions_total: 'COUNTER',
  tsfm_mode_transitions_total: 'COUNTER',
  tsfm_inflight: 'GAUGE',
  tsfm_mailbox_depth: 'GAUGE',
  tsfm_upstream_batch_size: 'HISTOGRAM',
  tsfm_lane_inflight_limit: 'GAUGE',
  tsfm_lane_inflight: 'GAUGE',
  tsfm_lane_queue_depth: 'GAUGE',
  tsfm_lane_predicted_wait_ms: 'GAUGE',
  tsfm_lane_shed_total: 'COUNTER',
  tsfm_lane_replica_state: 'GAUGE',
  tsfm_lane_hedges_total: 'COUNTER',
  tsfm_build_info: 'GAUGE',
  nodejs_eventloop_lag_seconds: 'GAUGE',
  process_cpu_seconds_total: 'COUNTER',
  process_resident_memory_bytes: 'GAUGE',
}

interface Family {
  name: string
  type: string
  metrics: Array<{ labels?: Record<string, string>; buckets?: Record<string, string> }>
}

describe('GET /metrics', () => {
  let d: TestDaemon

  beforeAll(async () => {
    d = await startTestDaemon({ defaultMetrics: true })
    const body = (m: string, n: number) => ({ market_id: m, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(n) })
    await call(d.url, '/tsfm/forecast', { body: body('m-1', 64) })
    await call(d.url, '/tsfm/forecast', { body: body('m-1', 64) })
    await call(d.url, '/tsfm/forecast', { body: body('m-2', 4) })
    await call(d.url, '/tsfm/forecast', { body: { market_id: 'bad' } })
  })
  afterAll(async () => {
    await d.close()
  })

  it('exposes every SPEC §8 metric with its type, parsed by a Prometheus text parser', async () => {
    const r = await call(d.url, '/metrics')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toContain('text/plain')
    const families = parsePrometheusTextFormat(r.text) as Family[]
    const types = new Map(families.map((f) => [f.name, f.type]))
    for (const [name, type] of Object.entries(EXPECTED)) expect({ name, type: types.get(name) }).toEqual({ name, type })
  })

  it('has no market_id label anywhere and buckets from 0.1 ms to 5 s', async () => {
    const r = await call(d.url, '/metrics')
    expect(r.text).not.toMatch(/market_id|m-1|m-2/)
    const families = parsePrometheusTextFormat(r.text) as Family[]
    const latency = families.find((f) => f.name === 'tsfm_request_latency_ms') as Family
    const buckets = Object.keys(latency.metrics[0]?.buckets ?? {})
    expect(buckets).toContain('0.1')
    expect(buckets).toContain('5000')
  })

  it('counts requests by status and runtime, fallbacks by reason and cache lookups by result', async () => {
    const r = await call(d.url, '/metrics')
    expect(r.text).toMatch(/tsfm_requests_total\{status="200",runtime="tollama"\} 2/)
    expect(r.text).toMatch(/tsfm_requests_total\{status="200",runtime="baseline"\} 1/)
    expect(r.text).toMatch(/tsfm_requests_total\{status="400",runtime="none"\} 1/)
    expect(r.text).toMatch(/tsfm_fallback_total\{reason="too_few_points"\} 1/)
    expect(r.text).toMatch(/tsfm_cache_requests_total\{result="hit"\} 1/)
    expect(r.text).toMatch(/tsfm_upstream_batch_size_count 1/)
    expect(r.text).toMatch(/tollama_latency_ms_count\{endpoint="\/api\/forecast",outcome="ok"\} 1/)
  })

  it('reports each upstream lane by model: its breaker, in-flight limit, queue and predicted wait', async () => {
    const r = await call(d.url, '/metrics')
    expect(r.text).toMatch(/tsfm_circuit_breaker_state\{lane="chronos2"\} 0/)
    expect(r.text).toMatch(/tsfm_lane_inflight_limit\{lane="chronos2"\} [1-9]/)
    expect(r.text).toMatch(/tsfm_lane_queue_depth\{lane="chronos2"\} 0/)
    expect(r.text).toMatch(/tsfm_lane_predicted_wait_ms\{lane="chronos2"\} /)
    const state = (await call(d.url, '/tsfm/state')).body
    expect(state.lanes.chronos2.breaker.state).toBe('closed')
    expect(state.lanes.chronos2.io).toMatchObject({ lane: 'chronos2', queued: 0, shed: 0 })
  })

  it('has every known counter series from the start, at 0, so increase() counts a first burst', async () => {
    const fresh = await startTestDaemon({ defaultMetrics: false })
    try {
      const text = (await call(fresh.url, '/metrics')).text
      for (const reason of ['upstream_model_missing', 'baseline_only_liquidity_bucket', 'queue_timeout', 'mailbox_full', 'stale_if_error']) {
        expect(text).toContain(`tsfm_fallback_total{reason="${reason}"} 0`)
      }
      for (const result of ['hit', 'stale', 'miss']) expect(text).toContain(`tsfm_cache_requests_total{result="${result}"} 0`)
      for (const [status, runtime] of [['200', 'tollama'], ['200', 'baseline'], ['400', 'none'], ['429', 'none'], ['499', 'none'], ['503', 'none']]) {
        expect(text).toContain(`tsfm_requests_total{status="${status}",runtime="${runtime}"} 0`)
      }
      expect(text).toContain('tsfm_breaker_transitions_total{from="closed",to="open",lane="chronos2"} 0')
      expect(text).toContain('tsfm_mode_transitions_total{from="normal",to="degraded",lane="chronos2"} 0')
      expect(text).toContain('tsfm_lane_shed_total{lane="chronos2"} 0')
      expect(text).toContain('tsfm_conformal_outcomes_total{result="matched"} 0')
      expect(text).toMatch(/tsfm_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v20\.[^"]+"\} 1/)
    } finally {
      await fresh.close()
    }
  })

  it("reports the upstream's health check: 1 while it answers, 0 when it stops", async () => {
    const h = await startTestDaemon({ defaultMetrics: false, config: { tsfm: { adapter: { health_interval_s: 0.05 } } } })
    const healthy = `tsfm_upstream_healthy{upstream="${h.sim.url}"}`
    const reads = async (v: number): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        if ((await call(h.url, '/metrics')).text.includes(`${healthy} ${v}`)) return
        await new Promise((r) => setTimeout(r, 25))
      }
      throw new Error(`${healthy} never read ${v}`)
    }
    try {
      await reads(1)
      await h.sim.close()
      await reads(0)
    } finally {
      await h.server.lifecycle.close()
      await h.runner.close()
    }
  })
})
