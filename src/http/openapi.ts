import { ERRORS } from '../errors.js'
import { OUTCOMES_MAX } from '../request/outcomes.js'
import { LIMITS } from '../request/types.js'
import { packageVersion } from '../version.js'
import { cycleResponseSchema, cycleSummarySchema, errorResponseSchema, forecastResponseSchema, outcomesResponseSchema } from './schemas.js'

/**
 * The daemon's OpenAPI 3.1 document (`GET /openapi.json`). Answers are described by the very
 * schemas fastify serialises them with (./schemas.ts), so the document cannot drift from the
 * bytes sent; requests by the schemas below, which describe what src/request/ validates (the
 * validator itself is hand-written: its messages name the field and quote the value, which a
 * JSON-Schema validator's do not). A test checks the document with an OpenAPI validator and
 * live answers against it.
 */

const probability = { type: 'number', minimum: 0, maximum: 1 } as const
const segment = { type: ['string', 'null'], maxLength: LIMITS.segment_max_chars } as const
const timestamp = { oneOf: [{ type: 'string', description: 'ISO-8601, e.g. 2026-02-20T00:00:00Z' }, { type: 'number', description: 'epoch seconds' }] } as const

export const forecastRequestSchema = {
  type: 'object',
  required: ['market_id', 'as_of_ts', 'y'],
  properties: {
    market_id: { type: 'string', minLength: 1, maxLength: LIMITS.market_id_max_chars },
    as_of_ts: timestamp,
    freq: { type: 'string', pattern: '^[1-9][0-9]*[mh]$', default: '5m' },
    horizon_steps: { type: 'integer', minimum: 1, maximum: 1000, default: 12 },
    quantiles: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, minItems: 1, maxItems: 20, uniqueItems: true, default: [0.1, 0.5, 0.9] },
    y: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 20_000, description: 'the market probability history, oldest first; in [0, 1] for the logit transform' },
    y_ts: { type: 'array', items: { type: 'string' }, description: 'one ISO timestamp per point, strictly increasing, on the freq grid' },
    max_gap_minutes: { type: ['number', 'null'], minimum: 0 },
    x_past: { type: 'object', additionalProperties: { type: 'array', items: { type: 'number' } } },
    x_future: { type: 'object', additionalProperties: { type: 'array', items: { type: 'number' } } },
    transform: { type: 'object', properties: { space: { enum: ['logit', 'identity'] }, eps: { type: 'number', exclusiveMinimum: 0, maximum: 0.01 } } },
    model: {
      type: 'object',
      properties: { provider: { type: 'string' }, model_name: { type: 'string' }, model_version: { type: ['string', 'null'] }, params: { type: 'object' } },
    },
    liquidity_bucket: segment,
    category: segment,
    tte_bucket: segment,
    rollout_stage: segment,
  },
} as const

const cycleRequestSchema = {
  type: 'object',
  required: ['requests'],
  properties: {
    requests: { type: 'array', items: forecastRequestSchema, minItems: 1, description: 'at most server.cycle_max_requests' },
    budget_ms: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 600_000 },
  },
} as const

const outcomesRequestSchema = {
  type: 'object',
  required: ['outcomes'],
  properties: {
    outcomes: {
      type: 'array',
      maxItems: OUTCOMES_MAX,
      items: {
        type: 'object',
        required: ['market_id', 'as_of_ts', 'realized'],
        properties: {
          market_id: { type: 'string', minLength: 1, maxLength: LIMITS.market_id_max_chars },
          as_of_ts: timestamp,
          realized: { oneOf: [probability, { type: 'array', items: probability, minItems: 1, maxItems: 1000 }] },
          horizon_steps: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      },
    },
  },
} as const

const json = (schema: object) => ({ 'application/json': { schema } })

function errors(...statuses: number[]): Record<string, object> {
  const out: Record<string, object> = {}
  for (const status of statuses) {
    const codes = Object.entries(ERRORS).filter(([, e]) => e.status === status).map(([code]) => code)
    out[String(status)] = { description: codes.length > 0 ? codes.join(', ') : 'error', content: json(errorResponseSchema) }
  }
  return out
}

const guarded = [401, 413, 415, 429, 503] as const

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'tsfm-runner', version: packageVersion(), description: 'Probabilistic forecasts for prediction markets, served within a trading cycle\'s deadline (README.md).' },
    security: [{}, { bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'when server.api_token is set' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same token' },
      },
    },
    paths: {
      '/tsfm/forecast': {
        post: {
          summary: 'Forecast one market (the Python service\'s TSFMRunnerService contract)',
          requestBody: { required: true, content: json(forecastRequestSchema) },
          responses: { '200': { description: 'a forecast, from the upstream or the baseline (meta.runtime)', content: json(forecastResponseSchema) }, ...errors(400, ...guarded) },
        },
      },
      '/tsfm/cycle': {
        post: {
          summary: 'A top-N cycle, always finished inside budget_ms',
          requestBody: { required: true, content: json(cycleRequestSchema) },
          responses: {
            '200': {
              description: 'results in priority order and a summary; with Accept: application/x-ndjson one line per market as it completes ({"type":"result","index","result"}), then {"type":"summary","summary"}',
              content: { ...json(cycleResponseSchema), 'application/x-ndjson': { schema: { type: 'object', properties: { type: { enum: ['result', 'summary', 'error'] }, index: { type: 'integer' }, result: forecastResponseSchema, summary: cycleSummarySchema } } } },
            },
            ...errors(400, ...guarded),
          },
        },
      },
      '/tsfm/outcomes': {
        post: {
          summary: 'Resolved outcomes for the online conformal calibration (conformal.online.enabled)',
          requestBody: { required: true, content: json(outcomesRequestSchema) },
          responses: { '200': { description: 'how the outcomes were matched', content: json(outcomesResponseSchema) }, ...errors(400, 409, ...guarded) },
        },
      },
      '/tsfm/state': { get: { summary: 'Breakers, modes, lanes, queues, cache and conformal state', responses: { '200': { description: 'runner.state()', content: json({ type: 'object' }) }, ...errors(401, 429, 503) } } },
      '/metrics': { get: { summary: 'Prometheus text exposition', responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(401, 503) } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
      '/health/live': { get: { summary: 'Process and event loop responsive', security: [{}], responses: { '200': { description: 'ok', content: json({ type: 'object', properties: { status: { const: 'ok' } } }) } } } },
      '/health/ready': {
        get: {
          summary: 'Ready for traffic (stays ready in baseline-only mode)',
          security: [{}],
          responses: {
            '200': { description: 'ready', content: json({ type: 'object', properties: { status: { const: 'ready' } } }) },
            '503': { description: 'draining or not ready', content: json({ type: 'object', properties: { status: { enum: ['draining', 'not_ready'] } } }) },
          },
        },
      },
      '/health/startup': { get: { summary: 'Started', security: [{}], responses: { '200': { description: 'started', content: json({ type: 'object', properties: { status: { const: 'started' } } }) } } } },
    },
  }
}
