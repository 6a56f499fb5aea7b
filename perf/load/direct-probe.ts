import { Pool } from 'undici'
import { percentiles, type Percentiles } from './percentiles.js'
import { RequestMix } from './request-mix.js'
import { upstreamAnswerProblem, upstreamBody } from './upstream-body.js'

/**
 * The upstream's own latency, measured while a load runs: single-series tollama requests (the
 * ones the daemon would send) straight to the simulator, `concurrency` at a time, until stopped.
 * A bound like "p95 ≤ upstream latency + 20 ms" then compares two figures taken on the same
 * machine at the same moment, instead of a daemon figure against the simulator's configured
 * latency — which a busy 2-core machine stretches for the simulator as much as for the daemon.
 */
export class DirectProbe {
  readonly concurrency: number
  readonly #pool: Pool
  readonly #bodies: Buffer[]
  readonly #latencies: number[] = []
  #problems = 0
  #running = false
  #workers: Promise<void>[] = []

  constructor(simUrl: string, concurrency: number) {
    this.#pool = new Pool(simUrl, { connections: concurrency, pipelining: 1 })
    const mix = new RequestMix({ prefix: 'direct', uniqueKeys: 16, requests: 16 })
    this.#bodies = Array.from({ length: 16 }, (_, k) => Buffer.from(upstreamBody(mix.body(k).toString())))
    this.concurrency = concurrency
  }

  start(): this {
    this.#running = true
    let i = 0
    const worker = async (): Promise<void> => {
      while (this.#running) {
        const body = this.#bodies[i++ % this.#bodies.length] as Buffer
        const t0 = performance.now()
        try {
          const res = await this.#pool.request({ path: '/api/forecast', method: 'POST', headers: { 'content-type': 'application/json' }, body })
          const text = await res.body.text()
          if (upstreamAnswerProblem(res.statusCode, text) !== null) this.#problems++
          else this.#latencies.push(performance.now() - t0)
        } catch {
          this.#problems++
        }
      }
    }
    this.#workers = Array.from({ length: this.concurrency }, worker)
    return this
  }

  /** Stops after the requests in flight; the latencies of the valid answers, and the others. */
  async stop(): Promise<{ latency: Percentiles; samples: readonly number[]; problems: number }> {
    this.#running = false
    await Promise.all(this.#workers)
    await this.#pool.close()
    return { latency: percentiles(this.#latencies), samples: this.#latencies, problems: this.#problems }
  }
}
