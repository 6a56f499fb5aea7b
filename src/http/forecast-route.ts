import type { FastifyReply } from 'fastify'
import { TsfmError } from '../errors.js'
import type { Logger } from '../log.js'
import type { ForecastRequest, RequestDefaults } from '../request/types.js'
import { validateForecastRequest } from '../request/validate.js'
import type { ForecastResponse } from '../response.js'
import type { Runner } from '../runner.js'
import type { AnswerSink, Waiter } from '../supervisor/flight.js'
import type { Admission, CloseWatcher } from './admission.js'
import { sendError } from './error-reply.js'
import { ForecastJson, type Serializer } from './forecast-json.js'
import type { ReplyBatch } from './reply-batch.js'
import { forecastHeadSchema, forecastMetaSchema } from './schemas.js'

const JSON_UTF8 = 'application/json; charset=utf-8'

/**
 * `POST /tsfm/forecast`: one object per server holding what every request shares; each request
 * gets one `ForecastReply` — the runner's answer sink and the watcher of its response, no
 * promise and no closure.
 */
export class ForecastRoute {
  #json: ForecastJson | null = null

  constructor(
    readonly runner: Runner,
    readonly admission: Admission,
    readonly answers: ReplyBatch,
    readonly defaults: RequestDefaults,
    readonly logger: Logger,
  ) {}

  /** The handler: what it throws (a 400) goes to the server's error handler. */
  handle(body: unknown, reply: FastifyReply): void {
    const v = validateForecastRequest(body, this.defaults)
    if (!v.ok) throw v.error
    // The answer is written by ForecastJson (cache hits reuse their body's text), compiled on the
    // first request by fastify's serializer compiler from the two halves of the 200 schema.
    const json = (this.#json ??= new ForecastJson(
      reply.compileSerializationSchema(forecastHeadSchema, '200') as Serializer,
      reply.compileSerializationSchema(forecastMetaSchema, '200') as Serializer,
    ))
    // A string with a JSON content type is sent as it is (an error answer sets its own type).
    reply.header('content-type', JSON_UTF8)
    const forecast = new ForecastReply(this, json, reply)
    // The client left while its body was read: no work for nobody.
    if (!this.admission.watch(reply.raw, forecast)) return
    forecast.submit(v.value)
  }
}

/**
 * One forecast request in flight. Its answer goes out with the rest of its event-loop turn
 * (./reply-batch.ts); a client that has gone gets nothing, and its waiter is withdrawn so the
 * runner spends no upstream work on it (a flight shared with other waiters carries on). Nothing
 * here may throw into the runner: a throw while answering becomes a 500 `TSFM_INTERNAL` and one
 * log line.
 */
export class ForecastReply implements AnswerSink, CloseWatcher {
  #waiter: Waiter | null = null
  /** Answered, or its client is gone: nothing more goes out. */
  #settled = false

  constructor(
    readonly route: ForecastRoute,
    readonly json: ForecastJson,
    readonly reply: FastifyReply,
  ) {}

  submit(req: ForecastRequest): void {
    // The HTTP request id (honoured or generated, server.ts) goes upstream with the series.
    const waiter = this.route.runner.submit(req, this, { requestId: this.reply.request.id })
    // A cache hit is answered inside submit(); only a request still waiting can be withdrawn.
    if (!this.#settled) this.#waiter = waiter
  }

  answer(response: ForecastResponse): void {
    if (!this.#settle()) return
    try {
      this.route.answers.send(this.reply, this.json.stringify(response))
    } catch (e) {
      this.#internal(e)
    }
  }

  fail(error: TsfmError): void {
    if (!this.#settle()) return
    try {
      // Through the error handler, like any other error answer.
      this.reply.send(error)
    } catch (e) {
      this.#internal(e)
    }
  }

  responseClosed(): void {
    const waiter = this.#waiter
    if (!this.#settle() || waiter === null) return
    this.route.runner.withdraw(waiter)
  }

  /** True the first time: the one moment this request is answered, or given up. */
  #settle(): boolean {
    if (this.#settled) return false
    this.#settled = true
    this.#waiter = null
    return true
  }

  #internal(e: unknown): void {
    const req = this.reply.request
    this.route.logger.error({ err: e, req_id: req.id, url: req.url }, 'unexpected error answering a request')
    try {
      sendError(this.reply, new TsfmError('TSFM_INTERNAL', 'internal error'))
    } catch {
      this.reply.raw.destroy()
    }
  }
}
