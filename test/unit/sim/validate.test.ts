import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  MAX_ISSUES,
  horizonIsFloatLiteral,
  parseForecastBody,
  topLevelRawValue,
  validateForecastRequest,
} from '../../../src/sim/validate.js'

const quantileSets = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 5 })
  .map((xs) => xs.sort((a, b) => a - b).map((x) => x / 100))

const validBodies = fc
  .record({
    model: fc.string({ minLength: 1 }),
    horizon: fc.integer({ min: 1, max: 100 }),
    quantiles: quantileSets,
    n: fc.integer({ min: 1, max: 50 }),
    ids: fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }),
  })
  .map(({ model, horizon, quantiles, n, ids }) => ({
    model,
    horizon,
    quantiles,
    series: ids.map((id) => ({
      id,
      freq: '5min',
      timestamps: Array.from({ length: n }, (_, k) => `2026-01-01T00:${String(k % 60).padStart(2, '0')}:00Z`),
      target: Array.from({ length: n }, (_, k) => k / n),
    })),
  }))

describe('validateForecastRequest', () => {
  it('accepts every well-formed request and keeps its values', () => {
    fc.assert(
      fc.property(validBodies, (body) => {
        const r = validateForecastRequest(body)
        expect(r.ok).toBe(true)
        if (r.ok) {
          expect(r.request.horizon).toBe(body.horizon)
          expect(r.request.quantiles).toEqual(body.quantiles)
          expect(r.request.series.map((s) => s.id)).toEqual(body.series.map((s) => s.id))
          expect(r.request.stream).toBe(true)
        }
      }),
    )
  })

  it('never throws on any JSON value and always locates issues under "body"', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = validateForecastRequest(value)
        if (!r.ok) {
          expect(r.issues.length).toBeGreaterThan(0)
          for (const issue of r.issues) expect(issue.loc[0]).toBe('body')
        }
      }),
    )
  })

  it('never throws on a valid request with one field replaced by any JSON value', () => {
    const fields = ['model', 'horizon', 'quantiles', 'series', 'options', 'parameters', 'response_options', 'keep_alive', 'timeout', 'stream', '__proto__', 'constructor']
    fc.assert(
      fc.property(validBodies, fc.constantFrom(...fields), fc.jsonValue(), (body, field, value) => {
        const mutated: Record<string, unknown> = JSON.parse(JSON.stringify(body)) as Record<string, unknown>
        Object.defineProperty(mutated, field, { value, enumerable: true, configurable: true, writable: true })
        validateForecastRequest(mutated)
      }),
    )
  })

  it('never throws on a series with one field replaced by any JSON value', () => {
    const fields = ['id', 'freq', 'timestamps', 'target', 'actuals', 'past_covariates', 'future_covariates', 'static_covariates', 'extra']
    fc.assert(
      fc.property(validBodies, fc.constantFrom(...fields), fc.jsonValue(), (body, field, value) => {
        const s = body.series[0] as Record<string, unknown>
        s[field] = value
        validateForecastRequest(body)
      }),
    )
  })

  it('refuses __proto__ as an unknown field', () => {
    const r = parseForecastBody('{"model":"m","horizon":1,"series":[{"id":"a","timestamps":["t"],"target":[1]}],"__proto__":{"x":1}}', 'application/json')
    expect(r.ok).toBe(false)
    expect(!r.ok && r.issues.map((i) => [i.type, i.loc.join('.')])).toEqual([['extra_forbidden', 'body.__proto__']])
  })

  it(`lists at most ${MAX_ISSUES} issues`, () => {
    const body = {
      model: 'm',
      horizon: 1,
      series: [{ id: 'a', timestamps: new Array(5000).fill('t'), target: new Array(5000).fill('x') }],
    }
    const r = validateForecastRequest(body)
    expect(!r.ok && r.issues.length).toBe(MAX_ISSUES)
  })

  it('refuses a horizon beyond the simulator bound', () => {
    const r = validateForecastRequest({ model: 'm', horizon: 100_001, series: [{ id: 'a', timestamps: ['t'], target: [1] }] })
    expect(!r.ok && r.issues[0]?.type).toBe('less_than_equal')
  })
})

describe('parseForecastBody', () => {
  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.constantFrom('application/json', 'text/plain', 'application/vnd.api+json'), { nil: undefined }), (text, type) => {
        const r = parseForecastBody(text, type)
        expect(r.ok).toBe(false)
      }),
    )
  })

  it('accepts a +json content type with parameters', () => {
    const text = JSON.stringify({ model: 'm', horizon: 1, series: [{ id: 'a', timestamps: ['t'], target: [1] }] })
    expect(parseForecastBody(text, 'application/vnd.tollama+json; charset=utf-8').ok).toBe(true)
    expect(parseForecastBody(text, undefined).ok).toBe(true)
  })
})

describe('the raw horizon token', () => {
  it.each([
    ['{"horizon":12}', false],
    ['{"horizon":12.0}', true],
    ['{"horizon": 1e1}', true],
    ['{"horizon":12,"options":{"horizon":2.5}}', false],
    ['{"options":{"horizon":2.5},"horizon":3}', false],
    ['{"note":"\\"horizon\\":1.5","horizon":3}', false],
    ['{"horizon":2.0,"horizon":3}', false],
    ['{"horizon":3,"horizon":2.0}', true],
    ['{"horizo\\u006e":2.0}', true],
  ])('%s is a float literal: %s', (text, expected) => {
    expect(horizonIsFloatLiteral(text)).toBe(expected)
  })

  it('finds the raw text of a top-level value past nested strings and brackets', () => {
    expect(topLevelRawValue('{"a":{"b":"}]","c":[1,{"d":2}]},"k": 7 }', 'k')).toBe('7')
    expect(topLevelRawValue('{"a":"x"}', 'k')).toBeNull()
    expect(topLevelRawValue('[1]', 'k')).toBeNull()
  })
})
