import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { call } from '../../helpers/daemon.js'
import { daemonConfig, startDaemonProcess, within, type DaemonProcess } from '../../helpers/daemon-process.js'
import { rawClient, stuckMidBody } from '../../helpers/raw-client.js'
import { probabilities } from '../../helpers/request-bodies.js'
import { makeTmpDir, type TmpDir } from '../../helpers/tmp-files.js'

function body(market: string): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }
}

describe('slow clients', () => {
  let sim: Simulator
  let dir: TmpDir
  let daemon: DaemonProcess

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0 })
    dir = makeTmpDir()
    daemon = await startDaemonProcess(daemonConfig(dir, sim.url, { request_timeout_ms: 1000, headers_timeout_ms: 500, admission_limit: 1 }))
  })
  afterAll(async () => {
    daemon.child.kill('SIGTERM')
    expect((await daemon.exited).code).toBe(0)
    await sim.close()
    dir.remove()
  })

  it('are cut off with a 408 once server.request_timeout_ms passes while they are stuck part-way through the body', async () => {
    const stuck = await stuckMidBody(daemon.url)
    expect(await within(stuck.closed, 8000, 'still open')).toBe('closed')
    expect(stuck.received()).toMatch(/^HTTP\/1\.1 408 /)
    // Its admission slot (the only one) is free again.
    expect((await call(daemon.url, '/tsfm/forecast', { body: body('after-stuck') })).status).toBe(200)
  })

  it('are cut off once server.headers_timeout_ms passes while their headers are unfinished', async () => {
    const c = await rawClient(daemon.url)
    c.socket.write('POST /tsfm/forecast HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    expect(await within(c.closed, 8000, 'still open')).toBe('closed')
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /)
  })
})
