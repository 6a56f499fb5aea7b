import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { call, startTestDaemon } from '../../helpers/daemon.js'
import { within } from '../../helpers/daemon-process.js'
import { rawClient } from '../../helpers/raw-client.js'
import { probabilities } from '../../helpers/request-bodies.js'

function body(market: string): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }
}

describe('a server that is closing', () => {
  it.each(['fastify close()', 'lifecycle.close()'] as const)(
    'answers a request arriving on a kept-alive connection after %s 503 TSFM_SHUTTING_DOWN with connection: close, and the one in flight 200',
    async (how) => {
      const d = await startTestDaemon({ sim: { latencyFixedMs: 800, latencyPerSeriesMs: 0 } })
      try {
        const inFlight = call(d.url, '/tsfm/forecast', { body: body('in-flight') })
        const c = await rawClient(d.url)
        // One answered request makes it a kept-alive connection.
        c.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
        for (let i = 0; i < 100 && !c.received().includes('{"status":"ok"}'); i++) await sleep(10)
        // The next request begins before the server closes and ends after.
        c.socket.write('POST /tsfm/forecast HTTP/1.1\r\nHost: 127.0.0.1\r\n')
        await sleep(50)
        const closing = how === 'lifecycle.close()' ? d.server.lifecycle.close() : d.server.close()
        await sleep(100)
        const late = JSON.stringify(body('late'))
        c.socket.write(`Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(late)}\r\n\r\n${late}`)
        expect(await within(c.closed, 5000, 'still open')).toBe('closed')
        const text = c.received()
        const second = text.slice(text.indexOf('HTTP/1.1', 1))
        expect(second).toMatch(/^HTTP\/1\.1 503 /)
        expect(second.toLowerCase()).toContain('connection: close')
        expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)).error.code).toBe('TSFM_SHUTTING_DOWN')
        const answered = await inFlight
        expect(answered.status).toBe(200)
        expect(answered.body.meta.runtime).toBe('tollama')
        await closing
      } finally {
        await d.runner.close()
        await d.sim.close()
      }
    },
  )
})
