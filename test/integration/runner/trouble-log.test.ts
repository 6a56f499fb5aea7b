import { describe, expect, it } from 'vitest'
import type { LogLevel } from '../../../src/config/types.js'
import { closedPort } from '../../../perf/load/ports.js'
import { createRunner, type Runner } from '../../../src/runner.js'
import { capturingLogger } from '../../helpers/log-lines.js'
import { probabilities } from '../../helpers/request-bodies.js'

/** A runner in front of a port nothing listens on, logging at `level` into memory. */
async function unreachable(level: LogLevel): Promise<{ runner: Runner; lines: () => Record<string, unknown>[] }> {
  const { logger, lines } = capturingLogger(level)
  const runner = await createRunner({
    config: { tsfm: { adapter: { base_url: `http://127.0.0.1:${await closedPort()}`, health_interval_s: 0, retry_count: 0, warmup: { enabled: false } } } },
    logger,
    defaultMetrics: false,
    checkModels: false,
  })
  return { runner, lines }
}

describe('a runner whose tollama is unreachable', () => {
  it('says so in the log, once, naming the lane and the failure class', async () => {
    const { runner, lines } = await unreachable('info')
    try {
      for (let i = 0; i < 3; i++) {
        const a = await runner.forecast({ market_id: `m-${i}`, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }, { requestId: `trouble-${i}` })
        expect(a.meta.runtime).toBe('baseline')
      }
      const failing = lines().filter((l) => l.event === 'upstream_failing')
      expect(failing).toHaveLength(1)
      // It names the upstream request that failed: a lone series goes with its caller's id.
      expect(failing[0]).toMatchObject({ level: 40, lane: 'chronos2', reason: expect.stringMatching(/^upstream_/), upstream_request_id: 'trouble-0' })
      expect(String(failing[0]?.msg)).toContain('(request trouble-0)')
      // Enough failures open the breaker: its line names the failure class too.
      for (let i = 3; i < 12 && runner.state().breaker.state !== 'open'; i++) await runner.forecast({ market_id: `m-${i}`, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) })
      const opened = lines().find((l) => l.event === 'breaker_transition' && l.to === 'open')
      expect(opened).toMatchObject({ lane: 'chronos2', cause: failing[0]?.reason, upstream_request_id: expect.stringMatching(/^tsfm-/) })
      expect(String(opened?.msg)).toContain(`upstream failing: ${String(failing[0]?.reason)}`)
    } finally {
      await runner.close()
    }
  })

  it("at debug, logs each failed request with the caller's id and the upstream request's", async () => {
    const { runner, lines } = await unreachable('debug')
    try {
      await runner.forecast({ market_id: 'dbg-1', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }, { requestId: 'dbg-req-1' })
      await runner.forecast({ market_id: 'dbg-2', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) })
      const failed = lines().filter((l) => l.event === 'upstream_failed')
      expect(failed).toHaveLength(2)
      expect(failed[0]).toMatchObject({ level: 20, market_id: 'dbg-1', req_id: 'dbg-req-1', upstream_request_id: 'dbg-req-1' })
      expect(failed[1]).toMatchObject({ market_id: 'dbg-2', req_id: null, upstream_request_id: expect.stringMatching(/^tsfm-/) })
    } finally {
      await runner.close()
    }
  })
})
