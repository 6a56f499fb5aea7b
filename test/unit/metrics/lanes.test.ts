import { describe, expect, it } from 'vitest'
import type { LaneStats } from '../../../src/io/types.js'
import { Metrics } from '../../../src/metrics/metrics.js'

const stats = (lane: string, hedges: number, health: LaneStats['health']): LaneStats => ({
  lane,
  limit: 2,
  inflight: 0,
  queued: 0,
  predicted_wait_ms: 0,
  shed: 0,
  requests: 0,
  series: 0,
  cost_fixed_ms: 25,
  cost_per_series_ms: 1.2,
  hedges,
  health,
})

async function value(m: Metrics, name: string, lane: string): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name)
  return (await metric?.get())?.values.find((v) => v.labels['lane'] === lane)?.value
}

describe('the lane metrics', () => {
  it('show each replica as up, on trial or down', async () => {
    const m = new Metrics({ defaultMetrics: false })
    m.lanes([stats('m@a:1', 0, 'up'), stats('m@b:1', 0, 'down')])
    expect(await value(m, 'tsfm_lane_replica_state', 'm@a:1')).toBe(0)
    expect(await value(m, 'tsfm_lane_replica_state', 'm@b:1')).toBe(2)
    m.lanes([stats('m@b:1', 0, 'trial')])
    expect(await value(m, 'tsfm_lane_replica_state', 'm@b:1')).toBe(1)
  })

  it('count the hedges the I/O thread reports cumulatively, from zero, across a restart of the thread', async () => {
    const m = new Metrics({ defaultMetrics: false })
    m.lanes([stats('m@a:1', 0, 'up')])
    expect(await value(m, 'tsfm_lane_hedges_total', 'm@a:1')).toBe(0)
    m.lanes([stats('m@a:1', 3, 'up')])
    m.lanes([stats('m@a:1', 5, 'up')])
    expect(await value(m, 'tsfm_lane_hedges_total', 'm@a:1')).toBe(5)
    m.lanes([stats('m@a:1', 1, 'up')]) // a new I/O thread counts from 0
    expect(await value(m, 'tsfm_lane_hedges_total', 'm@a:1')).toBe(6)
  })
})
