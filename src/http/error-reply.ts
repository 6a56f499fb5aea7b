import type { FastifyError, FastifyReply } from 'fastify'
import { TsfmError, isTsfmError } from '../errors.js'

/** An error answer in the catalogue's shape: FastAPI's `detail` plus `{error: {code, message, path}}`. */
export function sendError(reply: FastifyReply, e: TsfmError): FastifyReply {
  return reply.code(e.status).type('application/json').send(e.toBody())
}

/** Map fastify's and Node's errors to the catalogue; anything unknown is an internal error. */
export function toTsfmError(err: FastifyError | TsfmError | Error): TsfmError {
  if (isTsfmError(err)) return err
  const code = (err as FastifyError).code
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TsfmError('TSFM_BODY_TOO_LARGE', 'the request body is larger than the limit (server.body_limit_bytes)')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TsfmError('TSFM_UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TsfmError('TSFM_INVALID_JSON', 'the request body is empty; a JSON object is required')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TsfmError('TSFM_INVALID_JSON', 'the request body length does not match Content-Length')
  }
  const status = (err as FastifyError).statusCode
  if (err instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    const forbidden = /prototype/i.test(err.message)
    return new TsfmError(
      'TSFM_INVALID_JSON',
      forbidden ? 'the request body contains a forbidden key (__proto__ or constructor.prototype)' : 'the request body is not valid JSON',
    )
  }
  if (typeof status === 'number' && status >= 400 && status < 500) return new TsfmError('TSFM_INVALID_JSON', 'the request could not be read')
  return new TsfmError('TSFM_INTERNAL', 'internal error')
}
