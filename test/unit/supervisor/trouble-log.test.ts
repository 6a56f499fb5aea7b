import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { UpstreamTroubleLog } from '../../../src/supervisor/trouble-log.js'
import { capturingLogger } from '../../helpers/log-lines.js'

function setup() {
  const { logger, lines } = capturingLogger()
  const clock = new ManualClock()
  return { t: new UpstreamTroubleLog(logger, clock), clock, events: () => lines().map((l) => `${l.event}:${String(l.lane ?? l.base_url)}:${String(l.reason ?? l.failures ?? '')}`) }
}

describe('the upstream trouble log', () => {
  it('writes one warn line when a lane starts failing, and one info line when it answers again', () => {
    const { t, events } = setup()
    t.ok('chronos2')
    for (let i = 0; i < 500; i++) t.failed('chronos2', 'upstream_timeout')
    t.ok('chronos2')
    t.ok('chronos2')
    expect(events()).toEqual(['upstream_failing:chronos2:upstream_timeout', 'upstream_recovered:chronos2:500'])
  })

  it('names a new failure class, at most once every 10 s per lane', () => {
    const { t, clock, events } = setup()
    t.failed('a', 'upstream_timeout')
    t.failed('a', 'upstream_http_503')
    clock.advance(10_000)
    t.failed('a', 'upstream_http_503')
    t.failed('a', 'upstream_connect')
    t.failed('b', 'upstream_connect')
    expect(events()).toEqual(['upstream_failing:a:upstream_timeout', 'upstream_failing:a:upstream_http_503', 'upstream_failing:b:upstream_connect'])
  })

  it('names the failed upstream request by its X-Request-Id', () => {
    const { logger, lines } = capturingLogger()
    const clock = new ManualClock()
    const t = new UpstreamTroubleLog(logger, clock)
    t.failed('a', 'upstream_timeout', 'req-1')
    t.failed('a', 'upstream_timeout', 'req-2')
    expect(t.requestIdOf('a')).toBe('req-2')
    clock.advance(10_000)
    t.failed('a', 'upstream_http_503', 'req-3')
    t.failed('b', 'upstream_connect', null)
    expect(lines().map((l) => l.upstream_request_id)).toEqual(['req-1', 'req-3', null])
    t.ok('a')
    expect(t.requestIdOf('a')).toBeNull()
  })

  it('logs the health check only when its verdict changes', () => {
    const { t, events } = setup()
    t.health(true, null, 'http://t')
    t.health(false, true, 'http://t')
    t.health(false, false, 'http://t')
    t.health(true, false, 'http://t')
    expect(events()).toEqual(['upstream_unhealthy:http://t:', 'upstream_healthy:http://t:'])
  })
})
