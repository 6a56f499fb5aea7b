import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { packageRoot } from '../../../src/paths.js'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { call } from '../../helpers/daemon.js'
import { daemonConfig, startDaemonProcess, within, type DaemonProcess } from '../../helpers/daemon-process.js'
import { stuckMidBody } from '../../helpers/raw-client.js'
import { probabilities } from '../../helpers/request-bodies.js'
import { makeTmpDir, type TmpDir } from '../../helpers/tmp-files.js'

/** `--import` this and SIGUSR2 makes the daemon throw (or leave a rejection unhandled). */
const FAULT_ON_SIGNAL = `${packageRoot()}/test/fixtures/http/fault-on-signal.mjs`

function body(market: string): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }
}

describe('shutting down', () => {
  let sim: Simulator | null = null
  let dir: TmpDir | null = null
  let daemon: DaemonProcess | null = null
  afterEach(async () => {
    daemon?.child.kill('SIGKILL')
    daemon = null
    await sim?.close()
    sim = null
    dir?.remove()
    dir = null
  })

  it('ends the process within drain_timeout_ms + 1 s of SIGTERM while a client is stuck mid-body, with exit 0', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0 })
    dir = makeTmpDir()
    daemon = await startDaemonProcess(daemonConfig(dir, sim.url, { request_timeout_ms: 60_000, drain_delay_ms: 200, drain_timeout_ms: 2000 }))
    const stuck = await stuckMidBody(daemon.url)
    await sleep(300)
    daemon.child.kill('SIGTERM')
    const exit = await within(daemon.exited, 3000, null)
    expect(exit?.code).toBe(0)
    expect(await within(stuck.closed, 1000, 'still open')).toBe('closed')
  })

  it('ends the process with exit 1 once drain_timeout_ms has passed, even with a request still waiting for the upstream', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0, faults: { hang: 1 } })
    dir = makeTmpDir()
    daemon = await startDaemonProcess(
      daemonConfig(dir, sim.url, { drain_delay_ms: 100, drain_timeout_ms: 1500 }, { deadline_budget_ms: 30_000, timeout_s: 20, retry_count: 0 }),
    )
    const waiting = call(daemon.url, '/tsfm/forecast', { body: body('hung') }).catch(() => null)
    // The upstream holds it (a hung request is counted when received, not answered).
    for (let i = 0; i < 100 && sim.stats().requests < 1; i++) await sleep(20)
    expect(sim.stats().requests).toBe(1)
    daemon.child.kill('SIGTERM')
    const exit = await within(daemon.exited, 2500, null)
    expect(exit?.code).toBe(1)
    // The log was flushed before the exit: its last word is the timeout.
    expect(daemon.lines.some((l) => l.event === 'drain_timeout')).toBe(true)
    await waiting
  })

  it('answers /health/ready 503 draining during drain_delay_ms, still answers a forecast sent then, and exits 0', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0 })
    dir = makeTmpDir()
    daemon = await startDaemonProcess(daemonConfig(dir, sim.url, { drain_delay_ms: 1500, drain_timeout_ms: 5000 }))
    expect((await call(daemon.url, '/health/ready')).status).toBe(200)
    daemon.child.kill('SIGTERM')
    let ready = await call(daemon.url, '/health/ready')
    for (let i = 0; i < 50 && ready.status === 200; i++) {
      await sleep(10)
      ready = await call(daemon.url, '/health/ready')
    }
    expect(ready.status).toBe(503)
    expect(ready.body).toEqual({ status: 'draining' })
    const r = await call(daemon.url, '/tsfm/forecast', { body: body('during-delay') })
    expect(r.status).toBe(200)
    expect(r.body.meta.runtime).toBe('tollama')
    expect((await within(daemon.exited, 7000, null))?.code).toBe(0)
  })

  it.each([
    ['an uncaught exception', 'throw', 'uncaught_exception', 'test fault: uncaught exception'],
    ['an unhandled rejection', 'reject', 'unhandled_rejection', 'test fault: unhandled rejection'],
  ])('logs %s as one fatal JSON line with the error and exits 1', async (_name, fault, event, message) => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0 })
    dir = makeTmpDir()
    daemon = await startDaemonProcess(daemonConfig(dir, sim.url, {}), { nodeArgs: ['--import', FAULT_ON_SIGNAL], env: { TSFM_TEST_FAULT: fault } })
    daemon.child.kill('SIGUSR2')
    const exit = await within(daemon.exited, 5000, null)
    expect(exit?.code).toBe(1)
    const fatal = daemon.lines.filter((l) => l.level === 60)
    expect(fatal).toHaveLength(1)
    expect(fatal[0].event).toBe(event)
    expect(fatal[0].err.message).toBe(message)
    expect(fatal[0].err.stack).toContain('fault-on-signal.mjs')
  })
})
