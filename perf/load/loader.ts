import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { checkResponse, DEFAULT_HORIZON, DEFAULT_QUANTILES, type Expectation } from './check-answer.js'
import type { RequestMix } from './request-mix.js'
import { Tally, type LoadReport } from './tally.js'

/**
 * The load generator: an undici `Pool` with one keep-alive connection per concurrent request,
 * driving `POST /tsfm/forecast` with a request mix. Closed loop by default (each of `concurrency`
 * workers sends its next request when the previous answer is in); with `ratePerS` the arrivals
 * are paced (request i is not sent before start + i/rate) and `concurrency` only caps how many
 * are outstanding. Latency is measured per request from the send to the last body byte; every
 * answer is checked (check-answer.ts). A run ends after `requests` requests or `durationMs`,
 * whichever comes first; `stop()` ends it early (the requests in flight still finish).
 */

export interface LoadRun {
  readonly mix: RequestMix
  readonly concurrency: number
  readonly requests?: number
  readonly durationMs?: number
  readonly ratePerS?: number
}

const HEADERS = { 'content-type': 'application/json' }

export class Loader {
  readonly url: string
  readonly #pool: Pool
  #stopped = false

  constructor(url: string, connections: number) {
    this.url = url
    this.#pool = new Pool(url, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // A lost answer must fail the run, never hang it.
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    })
  }

  /** Ends the current run after the requests in flight. */
  stop(): void {
    this.#stopped = true
  }

  async run(opts: LoadRun): Promise<LoadReport> {
    const total = opts.requests ?? Number.POSITIVE_INFINITY
    const duration = opts.durationMs ?? Number.POSITIVE_INFINITY
    if (!Number.isFinite(total) && !Number.isFinite(duration)) throw new RangeError('a load run needs requests or durationMs')
    const interval = opts.ratePerS === undefined ? 0 : 1000 / opts.ratePerS
    const mix = opts.mix
    const tally = new Tally(Number.isFinite(total) ? total : 4096)
    const pool = this.#pool
    this.#stopped = false
    let next = 0
    const start = performance.now()
    const end = start + duration

    const worker = async (): Promise<void> => {
      for (;;) {
        if (next >= total || this.#stopped) return
        const i = next++
        if (interval > 0) {
          const due = start + i * interval
          if (due >= end) return
          const wait = due - performance.now()
          if (wait > 1) await sleep(wait)
          if (this.#stopped) return
        } else if (performance.now() >= end) return
        const key = mix.keyOf(i)
        const want: Expectation = { marketId: mix.marketId(key), horizon: DEFAULT_HORIZON, quantiles: DEFAULT_QUANTILES }
        const t0 = performance.now()
        let status = 0
        let text = ''
        let failure: string | null = null
        try {
          const res = await pool.request({ path: '/tsfm/forecast', method: 'POST', headers: HEADERS, body: mix.body(key) })
          status = res.statusCode
          text = await res.body.text()
        } catch (e) {
          failure = `net_${(e as { code?: string }).code ?? (e as Error).name}`
        }
        const ms = performance.now() - t0
        tally.add(failure === null ? checkResponse(status, text, want) : { kind: 'error', what: failure }, ms)
      }
    }

    const workers: Promise<void>[] = []
    for (let w = 0; w < opts.concurrency; w++) workers.push(worker())
    await Promise.all(workers)
    return tally.report(performance.now() - start)
  }

  close(): Promise<void> {
    return this.#pool.close()
  }
}
