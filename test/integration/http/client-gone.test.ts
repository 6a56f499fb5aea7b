import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config/index.js'
import type { ConfigInput } from '../../../src/config/types.js'
import { buildServer } from '../../../src/http/server.js'
import { createLogger } from '../../../src/log.js'
import type { ForecastResponse } from '../../../src/response.js'
import { createRunner } from '../../../src/runner.js'
import { startSimulator } from '../../../src/sim/index.js'
import type { AnswerSink, Waiter } from '../../../src/supervisor/flight.js'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { rawClient, rawPost } from '../../helpers/raw-client.js'
import { probabilities } from '../../helpers/request-bodies.js'

function body(market: string): Record<string, unknown> {
  return { market_id: market, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) }
}

/** A POST the client gives up on after `ms`: 'aborted', or 'answered' if the answer came first. */
async function giveUp(url: string, path: string, payload: unknown, ms: number, headers: Record<string, string> = {}): Promise<'aborted' | 'answered'> {
  try {
    const res = await request(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(ms),
    })
    await res.body.text()
    return 'answered'
  } catch {
    return 'aborted'
  }
}

/** Poll `GET /tsfm/state` until `done(state)` holds, for at most `ms`; returns the last state. */
async function stateWhen(url: string, done: (s: any) => boolean, ms = 10_000): Promise<any> {
  const until = Date.now() + ms
  let state: any = null
  while (Date.now() < until) {
    state = (await call(url, '/tsfm/state')).body
    if (done(state)) break
    await sleep(50)
  }
  return state
}

describe('a client that goes away', () => {
  let d: TestDaemon | null = null
  afterEach(async () => {
    await d?.close()
    d = null
  })

  it('gives its admission slot back: after two clients give up, the next two requests get 200, not 503', async () => {
    d = await startTestDaemon({ sim: { latencyFixedMs: 400, latencyPerSeriesMs: 0 }, config: { tsfm: { server: { admission_limit: 2 } } } })
    const url = d.url
    expect(await Promise.all([giveUp(url, '/tsfm/forecast', body('g-1'), 100), giveUp(url, '/tsfm/forecast', body('g-2'), 100)])).toEqual(['aborted', 'aborted'])
    await sleep(100)
    const later = await Promise.all([call(url, '/tsfm/forecast', { body: body('g-3') }), call(url, '/tsfm/forecast', { body: body('g-4') })])
    expect(later.map((r) => r.status)).toEqual([200, 200])
    expect((await call(url, '/health/ready')).status).toBe(200)
  })

  it('gives back the slot of a JSON cycle whose client gave up', async () => {
    d = await startTestDaemon({ sim: { latencyFixedMs: 400, latencyPerSeriesMs: 0 }, config: { tsfm: { server: { admission_limit: 1 } } } })
    const cycle = { requests: [body('c-1'), body('c-2'), body('c-3')], budget_ms: 10_000 }
    expect(await giveUp(d.url, '/tsfm/cycle', cycle, 100)).toBe('aborted')
    await sleep(100)
    expect((await call(d.url, '/tsfm/forecast', { body: body('c-4') })).status).toBe(200)
  })

  it('gives back the slot of a pipelined request whose connection closed before its turn', async () => {
    d = await startTestDaemon({ sim: { latencyFixedMs: 400, latencyPerSeriesMs: 0 }, config: { tsfm: { server: { admission_limit: 2 } } } })
    const c = await rawClient(d.url)
    // Two requests back to back on one connection: the second waits for the first's answer.
    c.socket.write(rawPost('/tsfm/forecast', body('p-1')) + rawPost('/tsfm/forecast', body('p-2')))
    await sleep(100)
    c.socket.destroy()
    await sleep(100)
    const later = await Promise.all([call(d.url, '/tsfm/forecast', { body: body('p-3') }), call(d.url, '/tsfm/forecast', { body: body('p-4') })])
    expect(later.map((r) => r.status)).toEqual([200, 200])
  })

  it('is withdrawn while it waits for the upstream: no upstream call is made for it', async () => {
    d = await startTestDaemon({
      sim: { serial: true, latencyFixedMs: 300, latencyPerSeriesMs: 0 },
      config: {
        tsfm: {
          adapter: { batch_window_ms: 0, deadline_budget_ms: 10_000, timeout_s: 5 },
          perf: { worker_concurrency: 1, queue_timeout_ms: 5000 },
        },
      },
    })
    const url = d.url
    const first = call(url, '/tsfm/forecast', { body: body('w-0') })
    await sleep(50)
    // Four more markets queue behind the first, and their clients leave.
    const left = await Promise.all([1, 2, 3, 4].map((i) => giveUp(url, '/tsfm/forecast', body(`w-${i}`), 100)))
    expect(left).toEqual(['aborted', 'aborted', 'aborted', 'aborted'])
    expect((await first).body.meta.runtime).toBe('tollama')
    // Time for a second upstream call, had one been made.
    await sleep(400)
    expect(d.sim.stats().seriesTotal).toBe(1)
    const state = await stateWhen(url, (s) => s.queue.open_requests === 0)
    expect(state.queue.open_requests).toBe(0)
  })

  it('survives 3 000 clients that leave after 50 ms: 20 fresh requests all get 200 and the queue empties', async () => {
    d = await startTestDaemon({
      sim: { latencyFixedMs: 400, latencyPerSeriesMs: 0 },
      config: { tsfm: { server: { admission_limit: 1000, rate_limit: { enabled: false } } } },
    })
    const url = d.url
    const total = 3000
    let next = 0
    let aborted = 0
    // 200 clients at a time, each starting again as soon as it has given up.
    const client = async (): Promise<void> => {
      while (next < total) {
        const i = next++
        if ((await giveUp(url, '/tsfm/forecast', body(`many-${i}`), 50)) === 'aborted') aborted++
      }
    }
    await Promise.all(Array.from({ length: 200 }, client))
    // More clients left than there are slots: had any slot leaked, fresh requests would get 503.
    expect(aborted).toBeGreaterThan(1000)
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => call(url, '/tsfm/forecast', { body: body(`fresh-${i}`) })))
    expect(fresh.map((r) => r.status)).toEqual(new Array(20).fill(200))
    const state = await stateWhen(url, (s) => s.queue.open_requests === 0 && s.queue.flights === 0)
    expect(state.queue.open_requests).toBe(0)
    expect(state.queue.flights).toBe(0)
  }, 60_000)

  it('stops its cycle (JSON or NDJSON) by calling return() on the cycle', async () => {
    d = await startTestDaemon({ sim: { latencyFixedMs: 400, latencyPerSeriesMs: 0 } })
    const runner = d.runner
    const cycleValidated = runner.cycleValidated.bind(runner)
    let stopped = 0
    runner.cycleValidated = (requests, opts) => {
      const run = cycleValidated(requests, opts)
      run.return = () => {
        stopped++
        return Promise.resolve({ done: true, value: undefined })
      }
      return run
    }
    const cycle = { requests: [body('s-1'), body('s-2')], budget_ms: 10_000 }
    expect(await giveUp(d.url, '/tsfm/cycle', cycle, 100)).toBe('aborted')
    expect(await giveUp(d.url, '/tsfm/cycle', cycle, 100, { accept: 'application/x-ndjson' })).toBe('aborted')
    await sleep(100)
    expect(stopped).toBe(2)
    // A cycle its client reads to the end is not stopped.
    expect((await call(d.url, '/tsfm/cycle', { body: cycle })).status).toBe(200)
    expect(stopped).toBe(2)
  })
})

describe('a throw while answering a forecast', () => {
  it('becomes a 500 TSFM_INTERNAL answer and one error log line, never an unhandled rejection', async () => {
    const sim = await startSimulator({ port: 0, latencyFixedMs: 5, latencyPerSeriesMs: 0 })
    const lines: any[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
        done()
      },
    })
    const input: ConfigInput = { tsfm: { adapter: { base_url: sim.url, health_interval_s: 0, warmup: { enabled: false } }, server: { host: '127.0.0.1', port: 0 }, perf: { math_threads: 1 } } }
    const config = resolveConfig(input).config
    const logger = createLogger('info', sink)
    const runner = await createRunner({ effectiveConfig: config, logger, defaultMetrics: false })
    // An answer the serializer cannot write, through both ways a host can be handed one.
    const broken = { market_id: 'x' } as unknown as ForecastResponse
    runner.forecastValidated = () => Promise.resolve(broken)
    runner.submit = (_req, answers: AnswerSink) => {
      const waiter = { state: 'done' } as Waiter
      answers.answer(broken, waiter)
      return waiter
    }
    const server = await buildServer({ runner, config, logger })
    await server.listen({ host: '127.0.0.1', port: 0 })
    const addr = server.server.address()
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
    try {
      const r = await call(url, '/tsfm/forecast', { body: body('t-1') })
      expect(r.status).toBe(500)
      expect(r.body.error.code).toBe('TSFM_INTERNAL')
      expect(r.text).not.toMatch(/at .*\.js:\d+|stack|TypeError/)
      const errors = lines.filter((l) => l.level >= 50)
      expect(errors).toHaveLength(1)
      expect(errors[0].msg).toBe('unexpected error answering a request')
      expect(errors[0].err.message).toBeTruthy()
      // The daemon goes on serving.
      expect((await call(url, '/health/live')).status).toBe(200)
    } finally {
      await server.close()
      await runner.close()
      await sim.close()
    }
  })
})
