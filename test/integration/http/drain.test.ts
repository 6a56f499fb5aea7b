import { afterAll, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { call } from '../../helpers/daemon.js'
import { startDaemonProcess } from '../../helpers/daemon-process.js'
import { probabilities } from '../../helpers/request-bodies.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'

describe('graceful drain', () => {
  let sim: Simulator | null = null
  afterAll(async () => {
    await sim?.close()
  })

  it('answers all 50 requests in flight after SIGTERM and exits 0', async () => {
    sim = await startSimulator({ port: 0, latencyFixedMs: 400, latencyPerSeriesMs: 0 })
    const dir = makeTmpDir()
    const file = dir.write(
      'tsfm.yaml',
      [
        'tsfm:',
        '  adapter:',
        `    base_url: ${sim.url}`,
        '    batch_window_ms: 0',
        '    health_interval_s: 0',
        '    warmup: {enabled: false}',
        '  perf:',
        '    worker_concurrency: 64',
        '  server:',
        '    port: 0',
        '    rate_limit: {enabled: false}',
      ].join('\n'),
    )
    const { child, url, exited } = await startDaemonProcess(file)
    const requests = Array.from({ length: 50 }, (_, i) =>
      call(url, '/tsfm/forecast', { body: { market_id: `d-${i}`, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) } }),
    )
    // Wait until the upstream has all 50 in hand, then stop the daemon mid-flight. Up to 10 s:
    // the lane may send them in two requests, the second just before the first (400 ms) ends,
    // and on a loaded machine 2 s was once not enough.
    for (let i = 0; i < 500 && sim.stats().seriesTotal < 50; i++) await new Promise((r) => setTimeout(r, 20))
    expect(sim.stats().seriesTotal).toBe(50)
    child.kill('SIGTERM')
    const answers = await Promise.all(requests)
    expect(answers.map((a) => a.status)).toEqual(new Array(50).fill(200))
    expect(answers.every((a) => a.body.meta.runtime === 'tollama')).toBe(true)
    expect((await exited).code).toBe(0)
    dir.remove()
  }, 30_000)
})
