import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { startSimulator, type Simulator } from '../../../src/sim/index.js'
import { call, forecastBody, json, newAgent } from './client.js'

let sim: Simulator
let agent: Agent

beforeAll(async () => {
  sim = await startSimulator({ latencyFixedMs: 0, latencyPerSeriesMs: 0 })
  agent = newAgent()
})

afterAll(async () => {
  await agent.close()
  await sim.close()
})

interface Issue {
  type: string
  loc: (string | number)[]
  msg: string
  input: unknown
  ctx?: Record<string, unknown>
}

async function issues(body: unknown, headers: Record<string, string> = {}): Promise<Issue[]> {
  const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', body, headers)
  expect(r.status).toBe(400)
  return (json(r) as { detail: Issue[] }).detail
}

function typesAndLocs(list: Issue[]): [string, string][] {
  return list.map((i) => [i.type, i.loc.join('.')])
}

function withSeries(patch: Record<string, unknown>): Record<string, unknown> {
  const body = forecastBody()
  const s = (body.series as Record<string, unknown>[])[0] as Record<string, unknown>
  Object.assign(s, patch)
  return body
}

describe('tollama-strict validation over HTTP', () => {
  it('refuses an unknown top-level field', async () => {
    expect(await issues({ ...forecastBody(), market_id: 'x' })).toEqual([
      { type: 'extra_forbidden', loc: ['body', 'market_id'], msg: 'Extra inputs are not permitted', input: 'x' },
    ])
  })

  it('refuses an unknown series field', async () => {
    expect(typesAndLocs(await issues(withSeries({ y: [1] })))).toEqual([['extra_forbidden', 'body.series.0.y']])
  })

  it('accepts every optional top-level field tollama knows', async () => {
    const body = {
      ...forecastBody(),
      options: { num_samples: 20 },
      parameters: { covariates_mode: 'strict' },
      response_options: { narrative: false, explain: false },
      keep_alive: '5m',
      timeout: 1.2,
      stream: false,
    }
    const r = await call(agent, `${sim.url}/api/forecast`, 'POST', body)
    expect(r.status).toBe(200)
  })

  it('names each missing required field with the containing object as input', async () => {
    const list = await issues({ quantiles: [0.5] })
    expect(typesAndLocs(list)).toEqual([
      ['missing', 'body.model'],
      ['missing', 'body.horizon'],
      ['missing', 'body.series'],
    ])
    expect(list[0]?.input).toEqual({ quantiles: [0.5] })
    expect(list[0]?.msg).toBe('Field required')
  })

  it('refuses a horizon written as a float literal, like pydantic StrictInt', async () => {
    const text = JSON.stringify(forecastBody()).replace('"horizon":3', '"horizon":3.0')
    expect(await issues(text)).toEqual([{ type: 'int_type', loc: ['body', 'horizon'], msg: 'Input should be a valid integer', input: 3 }])
  })

  it('accepts a float literal named horizon inside options (only the top-level field counts)', async () => {
    const text = JSON.stringify({ ...forecastBody(), options: { horizon: 2.5 } })
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', text)
    expect(r.status).toBe(200)
  })

  it.each([
    ['a string', '12'],
    ['a boolean', true],
    ['a fraction', 1.5],
  ])('refuses a horizon that is %s', async (_name, horizon) => {
    expect(typesAndLocs(await issues({ ...forecastBody(), horizon }))).toEqual([['int_type', 'body.horizon']])
  })

  it('refuses an empty model name', async () => {
    expect(await issues({ ...forecastBody(), model: '' })).toEqual([
      {
        type: 'string_too_short',
        loc: ['body', 'model'],
        msg: 'String should have at least 1 character',
        input: '',
        ctx: { min_length: 1 },
      },
    ])
  })

  it('refuses an empty series list', async () => {
    expect(await issues({ ...forecastBody(), series: [] })).toEqual([
      {
        type: 'too_short',
        loc: ['body', 'series'],
        msg: 'List should have at least 1 item after validation, not 0',
        input: [],
        ctx: { field_type: 'List', min_length: 1, actual_length: 0 },
      },
    ])
  })

  it('refuses unsorted quantiles with pydantic\'s value_error shape', async () => {
    expect(await issues({ ...forecastBody(), quantiles: [0.9, 0.1] })).toEqual([
      {
        type: 'value_error',
        loc: ['body', 'quantiles'],
        msg: 'Value error, quantiles must be sorted in ascending order',
        input: [0.9, 0.1],
        ctx: { error: 'quantiles must be sorted in ascending order' },
      },
    ])
  })

  it('refuses duplicated quantiles', async () => {
    const list = await issues({ ...forecastBody(), quantiles: [0.5, 0.5] })
    expect(list[0]?.msg).toBe('Value error, quantiles must be unique')
  })

  it('refuses quantiles on or outside (0, 1), each at its index', async () => {
    expect(typesAndLocs(await issues({ ...forecastBody(), quantiles: [0, 0.5, 1] }))).toEqual([
      ['greater_than', 'body.quantiles.0'],
      ['less_than', 'body.quantiles.2'],
    ])
  })

  it('refuses timestamps and target of different lengths', async () => {
    const list = await issues(withSeries({ target: [1, 2] }))
    expect(typesAndLocs(list)).toEqual([['value_error', 'body.series.0']])
    expect(list[0]?.msg).toBe('Value error, target length must match timestamps length')
  })

  it('refuses a non-number target value under both union members', async () => {
    expect(typesAndLocs(await issues(withSeries({ target: [1, 2, 3, 'x'] })))).toEqual([
      ['int_type', 'body.series.0.target.3.int'],
      ['float_type', 'body.series.0.target.3.float'],
    ])
  })

  it('refuses a past covariate shorter than the target', async () => {
    const list = await issues(withSeries({ past_covariates: { vol: [1, 2] } }))
    expect(list[0]?.msg).toBe("Value error, past_covariates['vol'] length must match timestamps length")
  })

  it('refuses a future covariate that is not also a past covariate', async () => {
    const list = await issues(withSeries({ past_covariates: { vol: [1, 2, 3, 4] }, future_covariates: { fee: [1, 2, 3] } }))
    expect(typesAndLocs(list)).toEqual([['value_error', 'body']])
    expect(list[0]?.msg).toBe(
      "Value error, future_covariates must also exist in past_covariates; missing past values for covariate 'fee'",
    )
  })

  it('refuses a future covariate whose length is not the horizon', async () => {
    const list = await issues(withSeries({ past_covariates: { vol: [1, 2, 3, 4] }, future_covariates: { vol: [1, 2] } }))
    expect(list[0]?.msg).toBe("Value error, future_covariates['vol'] length must match horizon (3)")
  })

  it('accepts matching past and future covariates', async () => {
    const body = withSeries({ past_covariates: { vol: [1, 2, 3, 4] }, future_covariates: { vol: [5, 6, 7] } })
    expect((await call(agent, `${sim.url}/v1/forecast`, 'POST', body)).status).toBe(200)
  })

  it('refuses a non-boolean stream flag on /api/forecast', async () => {
    const r = await call(agent, `${sim.url}/api/forecast`, 'POST', { ...forecastBody(), stream: 'false' })
    expect(r.status).toBe(400)
    expect(typesAndLocs((json(r) as { detail: Issue[] }).detail)).toEqual([['bool_type', 'body.stream']])
  })

  it('refuses a non-positive timeout', async () => {
    expect(typesAndLocs(await issues({ ...forecastBody(), timeout: 0 }))).toEqual([['greater_than', 'body.timeout']])
  })

  it('refuses an unknown covariates_mode with the literal_error message', async () => {
    const list = await issues({ ...forecastBody(), parameters: { covariates_mode: 'lenient' } })
    expect(list[0]).toEqual({
      type: 'literal_error',
      loc: ['body', 'parameters', 'covariates_mode'],
      msg: "Input should be 'best_effort' or 'strict'",
      input: 'lenient',
      ctx: { expected: "'best_effort' or 'strict'" },
    })
  })

  it('answers truncated JSON with json_invalid at the failing position', async () => {
    expect(await issues('{"model":"mock",')).toEqual([
      { type: 'json_invalid', loc: ['body', 16], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } },
    ])
  })

  it('answers an empty body as a missing body', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', undefined)
    expect(r.status).toBe(400)
    expect((json(r) as { detail: Issue[] }).detail).toEqual([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }])
  })

  it('answers a JSON array as not an object', async () => {
    expect(typesAndLocs(await issues([1, 2]))).toEqual([['model_attributes_type', 'body']])
  })

  it('reads a body with a non-JSON content type as bytes, as FastAPI does', async () => {
    const text = JSON.stringify(forecastBody())
    const list = await issues(text, { 'content-type': 'text/plain' })
    expect(list).toEqual([
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: text,
      },
    ])
  })

  it('answers an unparsable last timestamp with a 400 detail string', async () => {
    const r = await call(agent, `${sim.url}/v1/forecast`, 'POST', withSeries({ timestamps: ['a', 'b', 'c', 'yesterday'] }))
    expect(r.status).toBe(400)
    expect(json(r)).toEqual({ detail: "series 'm-0': invalid timestamp 'yesterday'" })
  })
})
