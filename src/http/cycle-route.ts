import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../log.js'
import { validateCycleRequest, type CycleLimits } from '../request/cycle.js'
import type { RequestDefaults } from '../request/types.js'
import type { ForecastResponse } from '../response.js'
import type { CycleRun, Runner } from '../runner.js'
import type { CycleItem } from '../supervisor/cycle.js'
import type { Admission, CloseWatcher } from './admission.js'
import { sendError, toTsfmError } from './error-reply.js'
import type { ServerLifecycle } from './lifecycle.js'

/** `POST /tsfm/cycle` (SPEC §2.2): one JSON document, or NDJSON lines as markets complete. */
export class CycleRoute {
  constructor(
    readonly runner: Runner,
    readonly admission: Admission,
    readonly defaults: RequestDefaults,
    readonly limits: CycleLimits,
    readonly lifecycle: ServerLifecycle,
    readonly logger: Logger,
  ) {}

  /** The handler: what it throws (a 400) goes to the server's error handler. */
  handle(req: FastifyRequest, reply: FastifyReply): void {
    const v = validateCycleRequest(req.body, this.defaults, this.limits)
    if (!v.ok) throw v.error
    const { requests, budget_ms } = v.value
    const ndjson = wantsNdjson(req)
    const cycle = new CycleReply(reply, this.lifecycle, this.logger)
    // The client left while its body was read: no cycle for nobody.
    if (!this.admission.watch(reply.raw, cycle)) return
    const run = this.runner.cycleValidated(requests, { budgetMs: budget_ms, order: ndjson ? 'completion' : 'priority', requestId: req.id })
    if (ndjson) void cycle.stream(run)
    else void cycle.collect(run, requests.length)
  }
}

function wantsNdjson(req: FastifyRequest): boolean {
  const accept = req.headers.accept
  return typeof accept === 'string' && accept.includes('application/x-ndjson')
}

/**
 * One cycle in flight. A client that disconnects stops its cycle (`return()` on its iterator)
 * instead of letting it spend the upstream's time on answers nobody reads. Its two ways of
 * answering never reject: what goes wrong is answered (or, once streaming, ends the stream).
 */
export class CycleReply implements CloseWatcher {
  #run: CycleRun | null = null
  /** The cycle ended or was stopped: nothing more to stop. */
  #over = false
  #gone = false

  constructor(
    readonly reply: FastifyReply,
    readonly lifecycle: ServerLifecycle,
    readonly logger: Logger,
  ) {}

  responseClosed(): void {
    this.#gone = true
    if (this.#over || this.#run === null) return
    this.#over = true
    stop(this.#run, this.logger)
  }

  /** One JSON document `{results, summary}`, results in request order. */
  async collect(run: CycleRun, count: number): Promise<void> {
    this.#run = run
    const reply = this.reply
    try {
      const results = new Array<ForecastResponse>(count)
      for await (const item of run) results[item.index] = item.response
      this.#over = true
      if (!this.#gone) reply.send({ results, summary: run.summary })
    } catch (e) {
      this.#over = true
      if (!this.#gone) this.#sendError(e)
    }
  }

  /** `Accept: application/x-ndjson`: one line per market as it completes, then a summary line. */
  async stream(run: CycleRun): Promise<void> {
    this.#run = run
    const reply = this.reply
    const raw = reply.raw
    try {
      reply.hijack()
      // Hijacked, so the server's onSend hook does not see it: end the connection here too.
      if (this.lifecycle.phase === 'closing') raw.setHeader('connection', 'close')
      raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
      for await (const item of run) {
        if (!this.#gone) raw.write(resultLine(item))
      }
      this.#over = true
      if (!this.#gone) raw.end(`${JSON.stringify({ type: 'summary', summary: run.summary })}\n`)
    } catch (e) {
      this.#over = true
      // The runner closed mid-cycle: end the stream with an error line rather than hang.
      if (this.#gone) return
      if (!raw.headersSent) return this.#sendError(e)
      raw.end(`${JSON.stringify({ type: 'error', error: toTsfmError(e as Error).toBody().error })}\n`)
    }
  }

  #sendError(e: unknown): void {
    const err = toTsfmError(e instanceof Error ? e : new Error(String(e)))
    if (err.code === 'TSFM_INTERNAL') this.logger.error({ err: e, req_id: this.reply.request.id, url: this.reply.request.url }, 'unexpected error answering a request')
    try {
      if (this.reply.sent) this.reply.raw.destroy()
      else sendError(this.reply, err)
    } catch {
      this.reply.raw.destroy()
    }
  }
}

/** Stop a cycle whose client left; `return()` may be absent, or throw, or reject. */
function stop(run: CycleRun, logger: Logger): void {
  try {
    const done = run.return?.()
    if (done !== undefined) done.then(undefined, (e: unknown) => logger.error({ err: e }, 'stopping a cycle failed'))
  } catch (e) {
    logger.error({ err: e }, 'stopping a cycle failed')
  }
}

function resultLine(item: CycleItem): string {
  return `{"type":"result","index":${item.index},"result":${JSON.stringify(item.response)}}\n`
}
