/**
 * Issue 13 ("auth and limits for real deployments"): the hot-path cost per request of the
 * per-client rate limit and of event-loop-based shedding, ours against the fastify plugins.
 *
 * One process, five small fastify instances, each with the same trivial route (`GET /x` →
 * `{"ok":true}`) and a `/health/live` route, differing only in their protection:
 *
 *   bare            no hook at all (the floor);
 *   ours            our rate limiter as the daemon runs it: one `onRequest` hook that skips the
 *                   health routes, builds the identity (`ip:<req.ip>`; with tokens it is
 *                   `token:<index>`, a string of the same shape) and takes from its bucket
 *                   (src/http/rate-limit.ts, an LRU of token buckets);
 *   ours+lag        `ours` plus an in-house event-loop-lag check (EventLoopLag below: one boolean
 *                   read in the same hook; the sampling runs on a timer, off the request path);
 *   @fastify/rate-limit   configured equivalently: global, local in-memory store, the same key
 *                   (`ip:<req.ip>`), the same limit, no `x-ratelimit-*` headers (ours sends none),
 *                   our catalogue error as the 429, the health route exempt (`rateLimit: false`);
 *   @fastify/under-pressure   `maxEventLoopDelay` set (never reached here), so its per-request
 *                   `onRequest` hook runs; our catalogue body through `pressureHandler`.
 *
 * The limits are set high (a bucket of 1e9) so every request takes the allowed path: the path
 * every request of a healthy deployment takes. Rounds interleave the variants in a shuffled
 * order (2 noisy shared cores: only ratios within one run mean anything); each round sends
 * `--requests` requests per variant, and the median round per variant is reported, as ns per
 * request, as added ns over `bare`, and as a ratio to `bare`.
 *
 * Two transports, both in the same run:
 *   inject   `fastify.inject` (light-my-request): no sockets, so the hooks are a larger share;
 *   http     a real listening server on 127.0.0.1:0 driven by an undici Pool (keep-alive,
 *            `--concurrency` requests in flight), client and server in this one process.
 *
 * Also reported: the median over rounds of each variant's time over `bare`'s in the same round
 * (paired ×bare), steadier than the ratio of medians when the machine's speed drifts.
 *
 * And, third, the hooks alone on a real request and reply of each app (mitata; see hookBench):
 * the per-request cost itself, in ns, without the transport's noise around it.
 *
 *   npx tsc -p . && node dist/perf/http/limits.js [--rounds 15] [--requests 4000]
 *        [--concurrency 16] [--only inject|http|hooks] [--no-save]
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks'
import { setImmediate as setImmediatePromise, setTimeout as sleep } from 'node:timers/promises'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type onRequestHookHandler } from 'fastify'
import { bench, do_not_optimize, run as runMitata, summary } from 'mitata'
import { Pool } from 'undici'
import { DEFAULTS } from '../../src/config/defaults.js'
import { TsfmError } from '../../src/errors.js'
import { sendError, toTsfmError } from '../../src/http/error-reply.js'
import { RateLimiter } from '../../src/http/rate-limit.js'
import { systemClock } from '../../src/clock/clock.js'
import { saveResults } from './results.js'

type Variant = 'bare' | 'ours' | 'ours+lag' | '@fastify/rate-limit' | '@fastify/under-pressure'
const VARIANTS: readonly Variant[] = ['bare', 'ours', 'ours+lag', '@fastify/rate-limit', '@fastify/under-pressure']
type Transport = 'inject' | 'http' | 'hooks'

interface Args {
  rounds: number
  requests: number
  concurrency: number
  transports: Transport[]
  save: boolean
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { rounds: 15, requests: 4000, concurrency: 16, transports: ['inject', 'http', 'hooks'], save: true }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--rounds') args.rounds = Number(next())
    else if (a === '--requests') args.requests = Number(next())
    else if (a === '--concurrency') args.concurrency = Number(next())
    else if (a === '--only') args.transports = [next() as Transport]
    else if (a === '--no-save') args.save = false
    else throw new Error(`unknown argument ${a}`)
  }
  return args
}

const captured = new Map<Variant, { req: FastifyRequest; reply: FastifyReply }>()
const HEALTH = new Set(['/health/live', '/health/ready', '/health/startup'])
/** Every request is allowed: the allowed path is the hot one. */
const LIMIT = { ...DEFAULTS.server.rate_limit, burst: 1e9 }
/** The plugin's fixed window that admits what the bucket admits from full: burst per burst/refill s. */
const WINDOW_MS = Math.round((LIMIT.burst / LIMIT.refill_per_s) * 1000)

function routePath(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/**
 * The in-house alternative to @fastify/under-pressure that was measured against it (not in src/):
 * the same estimator (the mean event-loop delay of an interval beyond the histogram's 10 ms
 * period), sampled on an unref'd timer, so a request reads one boolean in our existing hook.
 */
class EventLoopLag {
  #lagging = false
  readonly #histogram: IntervalHistogram
  readonly #timer: NodeJS.Timeout

  constructor(readonly maxDelayMs: number, sampleMs = 1000) {
    this.#histogram = monitorEventLoopDelay({ resolution: 10 })
    this.#histogram.enable()
    this.#timer = setInterval(() => {
      const delay = this.#histogram.count === 0 ? Infinity : this.#histogram.mean / 1e6 - 10
      this.#lagging = delay > this.maxDelayMs
      this.#histogram.reset()
    }, sampleMs)
    this.#timer.unref()
  }

  get lagging(): boolean {
    return this.#lagging
  }

  close(): void {
    clearInterval(this.#timer)
    this.#histogram.disable()
  }
}

/** Our hook as the daemon's (src/http/server.ts) has it, minus admission and auth. */
function oursHook(withLag: boolean): { hook: onRequestHookHandler; close: () => void } {
  const limiter = new RateLimiter(LIMIT, systemClock)
  // The threshold is never reached here: the check's cost is the read, as in a healthy daemon.
  const lag = withLag ? new EventLoopLag(1000) : null
  const hook: onRequestHookHandler = (req, reply, done) => {
    const path = routePath(req.url)
    if (HEALTH.has(path)) return done()
    if (lag !== null && lag.lagging) {
      reply.header('retry-after', '1')
      return sendError(reply, new TsfmError('TSFM_OVERLOADED', 'overloaded'))
    }
    const identity = `ip:${req.ip}`
    const v = limiter.take(identity)
    if (!v.ok) {
      reply.header('retry-after', String(v.retryAfterS))
      return sendError(reply, new TsfmError('TSFM_RATE_LIMITED', `rate limit exceeded; retry after ${v.retryAfterS} s`))
    }
    done()
  }
  return { hook, close: () => lag?.close() }
}

async function build(variant: Variant): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  if (variant === 'ours' || variant === 'ours+lag') {
    const { hook, close } = oursHook(variant === 'ours+lag')
    app.addHook('onClose', (_app, done) => (close(), done()))
    app.addHook('onRequest', hook)
  } else if (variant === '@fastify/rate-limit') {
    await app.register(rateLimit, {
      global: true,
      max: LIMIT.burst,
      timeWindow: WINDOW_MS,
      cache: LIMIT.max_identities,
      keyGenerator: (req) => `ip:${req.ip}`,
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
      errorResponseBuilder: (_req, ctx) => new TsfmError('TSFM_RATE_LIMITED', `rate limit exceeded; retry after ${ctx.after}`),
    })
  } else if (variant === '@fastify/under-pressure') {
    await app.register(underPressure, {
      maxEventLoopDelay: 1000,
      retryAfter: 1,
      // Health routes pass; the rest get our catalogue's 503 through the error handler.
      pressureHandler: (req, reply) => {
        if (HEALTH.has(routePath(req.url))) return undefined
        reply.header('retry-after', '1')
        return Promise.reject(new TsfmError('TSFM_OVERLOADED', 'overloaded'))
      },
    })
  }
  app.setErrorHandler((err, _req, reply) => sendError(reply, toTsfmError(err as Error)))
  const exempt = variant === '@fastify/rate-limit' ? { config: { rateLimit: false as const } } : {}
  app.get('/x', () => ({ ok: true }))
  // A real request and reply of this app, for the hook-level section (not timed).
  app.get('/capture', (req, reply) => {
    captured.set(variant, { req, reply })
    return { ok: true }
  })
  app.get('/health/live', exempt, () => ({ status: 'ok' }))
  await app.ready()
  return app
}

async function injectRound(app: FastifyInstance, n: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const res = await app.inject({ method: 'GET', url: '/x' })
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`)
    // inject resolves on microtasks alone: without this the loop would never reach its timers,
    // and the event-loop monitors (rightly) call a loop blocked for a whole interval lagging.
    if (i % 64 === 63) await setImmediatePromise()
  }
  return ((performance.now() - t0) * 1e6) / n
}

async function httpRound(pool: Pool, n: number, concurrency: number, name: string): Promise<number> {
  let sent = 0
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++
      const res = await pool.request({ method: 'GET', path: '/x' })
      await res.body.dump()
      if (res.statusCode !== 200) throw new Error(`${name}: status ${res.statusCode}`)
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return ((performance.now() - t0) * 1e6) / n
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j] as T, a[i] as T]
  }
  return a
}

/**
 * The hooks alone, on a real request and reply of each app (mitata): our hook (sync, callback);
 * under-pressure's global `onRequest` hook (sync, callback; read from fastify's hook list);
 * @fastify/rate-limit's hook (async: fastify waits for its promise), the very function the
 * plugin puts on each route (`fastify.rateLimit()` with the global options), with an empty
 * async function for the floor of an awaited call.
 */
async function hookBench(): Promise<Record<string, unknown>> {
  for (const [v, app] of apps) {
    const res = await app.inject({ method: 'GET', url: '/capture' })
    if (res.statusCode !== 200 || !captured.has(v)) throw new Error(`${v}: no capture`)
  }
  const noop = (): void => {}
  const get = (v: Variant): { app: FastifyInstance; req: FastifyRequest; reply: FastifyReply } => ({
    app: apps.get(v) as FastifyInstance,
    ...(captured.get(v) as { req: FastifyRequest; reply: FastifyReply }),
  })
  const ours = get('ours')
  const oursHookFn = oursHook(false)
  const lag = get('ours+lag')
  const lagHook = oursHook(true)
  const up = get('@fastify/under-pressure')
  const kHooks = Object.getOwnPropertySymbols(up.app).find((sym) => sym.description === 'fastify.hooks') as symbol
  const upHooks = (up.app as unknown as Record<symbol, { onRequest: onRequestHookHandler[] }>)[kHooks]?.onRequest ?? []
  if (upHooks.length !== 1) throw new Error(`under-pressure: ${upHooks.length} onRequest hooks`)
  const upHook = upHooks[0] as onRequestHookHandler
  const rl = get('@fastify/rate-limit')
  const rlHook = (rl.app as unknown as { rateLimit: () => (req: FastifyRequest, reply: FastifyReply) => Promise<void> }).rateLimit()
  const rlReq = rl.req as unknown as Record<symbol, boolean>
  const ran = Object.getOwnPropertySymbols(rlReq).find((sym) => sym.description === 'fastify.request.rateLimitRan')
  if (ran === undefined) throw new Error('rate-limit: its per-request mark not found')

  let calls = 0
  const counted = (): void => {
    calls++
  }
  // Each hook lets the request through (a hook that answered would not call `done`).
  oursHookFn.hook.call(ours.app, ours.req, ours.reply, counted)
  upHook.call(up.app, up.req, up.reply, counted)
  rlReq[ran] = false
  await rlHook(rl.req, rl.reply)
  if (calls !== 2) throw new Error('a hook did not let the request through')

  summary(() => {
    bench('ours: rate limit (sync hook)', () => oursHookFn.hook.call(ours.app, ours.req, ours.reply, noop))
    bench('ours+lag: rate limit + lag check (sync hook)', () => lagHook.hook.call(lag.app, lag.req, lag.reply, noop))
    bench('@fastify/under-pressure hook (sync)', () => upHook.call(up.app, up.req, up.reply, noop))
    bench('empty async function, awaited (floor)', async () => do_not_optimize(await (async () => {})()))
    bench('@fastify/rate-limit hook (async, awaited)', async () => {
      rlReq[ran] = false
      await rlHook(rl.req, rl.reply)
    })
  })
  const results = await runMitata()
  oursHookFn.close()
  lagHook.close()
  return { benchmarks: results.benchmarks.flatMap((t) => t.runs.map((r) => ({ name: r.name, avg_ns: r.stats === undefined ? null : Math.round(r.stats.avg) }))) }
}

const args = parseArgs(process.argv.slice(2))
const apps = new Map<Variant, FastifyInstance>()
for (const v of VARIANTS) apps.set(v, await build(v))

// Every variant answers the same, and the protection is in place (a sanity check, not timed).
for (const [v, app] of apps) {
  const res = await app.inject({ method: 'GET', url: '/x' })
  if (res.statusCode !== 200 || res.body !== '{"ok":true}') throw new Error(`${v}: ${res.statusCode} ${res.body}`)
}

const report: Record<string, unknown> = {}
for (const transport of args.transports) {
  if (transport === 'hooks') {
    report.hooks = await hookBench()
    continue
  }
  const pools = new Map<Variant, Pool>()
  if (transport === 'http') {
    for (const [v, app] of apps) {
      const address = await app.listen({ host: '127.0.0.1', port: 0 })
      pools.set(v, new Pool(address, { connections: args.concurrency, pipelining: 1 }))
    }
  }
  const run = (v: Variant): Promise<number> =>
    transport === 'inject' ? injectRound(apps.get(v) as FastifyInstance, args.requests) : httpRound(pools.get(v) as Pool, args.requests, args.concurrency, v)

  // The event-loop monitors see a settled loop before the first round (a full sample interval).
  await sleep(1100)
  // Warm-up: one round each, not counted (JIT, connections).
  for (const v of VARIANTS) await run(v)
  const samples = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]))
  // Per round, each variant over `bare` of the same round: paired, so a slow spell of the shared
  // machine that spans a round cancels out.
  const paired = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]))
  for (let r = 0; r < args.rounds; r++) {
    const round = new Map<Variant, number>()
    for (const v of shuffled(VARIANTS)) round.set(v, await run(v))
    for (const v of VARIANTS) {
      samples.get(v)?.push(round.get(v) as number)
      paired.get(v)?.push((round.get(v) as number) / (round.get('bare') as number))
    }
  }

  const bare = median(samples.get('bare') as number[])
  const rows = VARIANTS.map((v) => {
    const m = median(samples.get(v) as number[])
    const s = [...(samples.get(v) as number[])].sort((a, b) => a - b)
    return {
      variant: v,
      ns_per_request: Math.round(m),
      added_ns: Math.round(m - bare),
      ratio_to_bare: Number((m / bare).toFixed(3)),
      ratio_to_ours: 0,
      paired_ratio_to_bare: Number(median(paired.get(v) as number[]).toFixed(3)),
      iqr_ns: [Math.round(s[Math.floor(s.length / 4)] as number), Math.round(s[Math.floor((3 * s.length) / 4)] as number)],
    }
  })
  const ours = rows.find((r) => r.variant === 'ours')?.ns_per_request ?? 1
  for (const r of rows) r.ratio_to_ours = Number((r.ns_per_request / ours).toFixed(3))

  console.log(`\n${transport}: ${args.rounds} rounds × ${args.requests} requests per variant${transport === 'http' ? `, ${args.concurrency} in flight` : ''}; median round`)
  console.log('variant                    ns/req   +ns vs bare   ×bare   ×ours   paired ×bare   IQR (ns/req)')
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(25)} ${String(r.ns_per_request).padStart(7)} ${String(r.added_ns).padStart(12)} ${r.ratio_to_bare.toFixed(3).padStart(8)} ${r.ratio_to_ours.toFixed(3).padStart(7)} ${r.paired_ratio_to_bare.toFixed(3).padStart(14)}   ${r.iqr_ns[0]}–${r.iqr_ns[1]}`,
    )
  }
  report[transport] = { rounds: args.rounds, requests: args.requests, ...(transport === 'http' ? { concurrency: args.concurrency } : {}), rows }
  for (const p of pools.values()) await p.close()
}

for (const app of apps.values()) await app.close()
process.exitCode = 0
if (args.save) console.log(`\nsaved ${saveResults('http.json', 'limits', report)}`)
