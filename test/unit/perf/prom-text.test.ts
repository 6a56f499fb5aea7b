import { describe, expect, it } from 'vitest'
import { bucketPercentile, gauge, histogram, histogramDelta, parseMetrics } from '../../../perf/load/prom-text.js'

const TEXT = `# HELP tollama_latency_ms Latency.
# TYPE tollama_latency_ms histogram
tollama_latency_ms_bucket{le="100",endpoint="/api/forecast",outcome="ok"} 2
tollama_latency_ms_bucket{le="250",endpoint="/api/forecast",outcome="ok"} 9
tollama_latency_ms_bucket{le="+Inf",endpoint="/api/forecast",outcome="ok"} 10
tollama_latency_ms_sum{endpoint="/api/forecast",outcome="ok"} 1500.5
tollama_latency_ms_count{endpoint="/api/forecast",outcome="ok"} 10
tollama_latency_ms_bucket{le="100",endpoint="/api/forecast",outcome="upstream_timeout"} 0
tollama_latency_ms_bucket{le="250",endpoint="/api/forecast",outcome="upstream_timeout"} 0
tollama_latency_ms_bucket{le="+Inf",endpoint="/api/forecast",outcome="upstream_timeout"} 1
tollama_latency_ms_sum{endpoint="/api/forecast",outcome="upstream_timeout"} 1200
tollama_latency_ms_count{endpoint="/api/forecast",outcome="upstream_timeout"} 1
tsfm_lane_inflight_limit{lane="a \\"quoted\\""} 2
process_resident_memory_bytes 135340032
`

describe('prom-text', () => {
  it('reads samples with their labels, escapes included', () => {
    const m = parseMetrics(TEXT)
    expect(gauge(m, 'process_resident_memory_bytes')).toBe(135340032)
    expect(gauge(m, 'tsfm_lane_inflight_limit', { lane: 'a "quoted"' })).toBe(2)
    expect(gauge(m, 'no_such_metric')).toBeNaN()
  })

  it('sums a histogram over the label sets that match, and subtracts two readings', () => {
    const m = parseMetrics(TEXT)
    const all = histogram(m, 'tollama_latency_ms', { endpoint: '/api/forecast' })
    expect(all.le).toEqual([100, 250, Number.POSITIVE_INFINITY])
    expect(all.counts).toEqual([2, 9, 11])
    expect([all.sum, all.count]).toEqual([2700.5, 11])
    const ok = histogram(m, 'tollama_latency_ms', { outcome: 'ok' })
    const d = histogramDelta(all, ok)
    expect(d.counts).toEqual([0, 0, 1])
    expect([d.sum, d.count]).toEqual([1200, 1])
  })

  it('bounds a percentile by the upper edge of its bucket', () => {
    const h = histogram(parseMetrics(TEXT), 'tollama_latency_ms', { outcome: 'ok' })
    expect(bucketPercentile(h, 20)).toBe(100)
    expect(bucketPercentile(h, 50)).toBe(250)
    expect(bucketPercentile(h, 95)).toBe(Number.POSITIVE_INFINITY)
  })
})
