import { Pool } from 'undici'

/**
 * The closed-loop load generator of perf/http/server-choice.ts, run in its own process so the
 * server's event loop has a core to itself (the machine has two). `concurrency` loops each keep
 * one request in flight over an undici Pool of `connections` keep-alive connections (no
 * pipelining), for `seconds`, cycling through `bodies`. Latency is per request, client-observed
 * (hrtime around `pool.request` until the body is consumed).
 */

export interface LoadSpec {
  readonly url: string
  readonly path: string
  readonly bodies: readonly string[]
  readonly connections: number
  readonly concurrency: number
  readonly seconds: number
  /** Unrecorded requests before the timed run (JIT warm-up, connections opened). */
  readonly warmupRequests: number
}

export interface LoadResult {
  readonly requests: number
  readonly errors: number
  readonly non200: number
  readonly seconds: number
  readonly rps: number
  readonly p50_us: number
  readonly p90_us: number
  readonly p99_us: number
  readonly max_us: number
  /** One answer body, for the caller to check what was served. */
  readonly sample: string
}

const MAX_SAMPLES = 4_000_000

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 })
  const headers = { 'content-type': 'application/json' }
  const bodies = spec.bodies
  const lat = new Float64Array(MAX_SAMPLES)
  let n = 0
  let next = 0
  let errors = 0
  let non200 = 0
  let sample = ''
  let recording = false
  let stopAt = 0

  const one = async (): Promise<void> => {
    const body = bodies[next++ % bodies.length] as string
    const t0 = process.hrtime.bigint()
    try {
      const res = await pool.request({ path: spec.path, method: 'POST', headers, body })
      if (res.statusCode !== 200) {
        non200++
        if (sample === '') sample = await res.body.text()
        else await res.body.dump()
      } else if (sample === '') {
        sample = await res.body.text()
      } else {
        await res.body.dump()
      }
    } catch {
      errors++
      return
    }
    if (recording && n < MAX_SAMPLES) lat[n++] = Number(process.hrtime.bigint() - t0) / 1000
  }

  // Warm-up: every connection opened, the JIT settled on both sides.
  let warm = 0
  const warmLoop = async (): Promise<void> => {
    while (warm++ < spec.warmupRequests) await one()
  }
  await Promise.all(Array.from({ length: spec.concurrency }, warmLoop))

  sample = ''
  errors = 0
  non200 = 0
  recording = true
  const started = process.hrtime.bigint()
  stopAt = performance.now() + spec.seconds * 1000
  const loop = async (): Promise<void> => {
    while (performance.now() < stopAt) await one()
  }
  await Promise.all(Array.from({ length: spec.concurrency }, loop))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await pool.close()

  const sorted = lat.subarray(0, n).sort()
  const at = (p: number): number => round1(sorted[Math.min(n - 1, Math.floor(p * (n - 1)))] ?? Number.NaN)
  return {
    requests: n,
    errors,
    non200,
    seconds: round1(seconds),
    rps: Math.round(n / seconds),
    p50_us: at(0.5),
    p90_us: at(0.9),
    p99_us: at(0.99),
    max_us: round1(n === 0 ? Number.NaN : (sorted[n - 1] as number)),
    sample,
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}

/** Child-process entry: one LoadSpec in over IPC, one LoadResult out, then exit. */
if (process.argv.includes('--load-client') && process.send !== undefined) {
  process.once('message', (spec: LoadSpec) => {
    runLoad(spec).then(
      (result) => process.send?.(result, () => process.exit(0)),
      (e: unknown) => {
        console.error(e)
        process.exit(1)
      },
    )
  })
}
