import type { ServerResponse } from 'node:http'
import { pyRepr } from './python-format.js'
import type { ValidationIssue } from './validate.js'

/**
 * The bodies tollama (FastAPI/Starlette) sends, byte for byte where it matters: a route 404
 * (`Not Found`) and a model 404 (`... is not installed`) must stay distinguishable.
 */

export const NOT_FOUND_BODY = '{"detail":"Not Found"}'
export const METHOD_NOT_ALLOWED_BODY = '{"detail":"Method Not Allowed"}'
export const VERSION_BODY = '{"version":"0.1.0-sim"}'
export const HEALTH_BODY = '{"status":"ok"}'

export const VALIDATION_HINT =
  'Fix the request body: every `detail` entry names the failing field in `loc`. ' +
  '`tollama run <model> --input request.json --dry-run` validates a payload.'

export const MODEL_MISSING_HINT =
  'Run `tollama pull <model>` to install. Use `tollama info --json` to inspect available models.'

export function validationBody(issues: readonly ValidationIssue[]): string {
  return JSON.stringify({ detail: issues, hint: VALIDATION_HINT })
}

export function modelMissingBody(model: string): string {
  return JSON.stringify({ detail: `model ${pyRepr(model)} is not installed`, hint: MODEL_MISSING_HINT })
}

/** A 400 the daemon raises itself (`HTTPException(400, detail=str(exc))`). */
export function detailBody(detail: string): string {
  return JSON.stringify({ detail })
}

/** Upstream failure bodies, shaped like tollama's `HTTPException` answers. */
export const FAULT_BODIES = {
  http_500: detailBody('Internal Server Error (simulated runner crash)'),
  http_502: detailBody('runner returned invalid forecast response (simulated)'),
  http_503: detailBody("runner unavailable: family 'sim' is restarting (simulated)"),
  http_504: detailBody('runner call timed out (simulated)'),
  http_429: detailBody('Too Many Requests (simulated rate limit)'),
} as const

/** What a misconfigured reverse proxy answers with a 200: HTML where JSON was expected. */
export const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx (tollama-sim)</center></body></html>\n'

export const JSON_TYPE = 'application/json'
export const NDJSON_TYPE = 'application/x-ndjson'
export const HTML_TYPE = 'text/html; charset=utf-8'

/** Writes a complete response unless the client is gone. */
export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string = JSON_TYPE,
  extra?: Readonly<Record<string, string>>,
): void {
  if (res.destroyed || res.writableEnded) return
  res.statusCode = status
  res.setHeader('content-type', contentType)
  res.setHeader('content-length', Buffer.byteLength(body))
  if (extra !== undefined) for (const [k, v] of Object.entries(extra)) res.setHeader(k, v)
  res.end(body)
}
