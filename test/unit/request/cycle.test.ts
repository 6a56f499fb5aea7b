import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../../src/config/defaults.js'
import { quote } from '../../../src/errors.js'
import type { CycleLimits } from '../../../src/request/cycle.js'
import { CYCLE_MAX_BUDGET_MS, cycleLimitsFromConfig, validateCycleRequest } from '../../../src/request/cycle.js'
import { fullBody, minimalBody, STOCK_DEFAULTS } from '../../helpers/request-bodies.js'

const LIMITS: CycleLimits = { max_requests: 3, default_budget_ms: 60_000 }

function rejection(body: unknown, limits: CycleLimits = LIMITS) {
  const r = validateCycleRequest(body, STOCK_DEFAULTS, limits)
  if (r.ok) throw new Error('expected a rejection')
  return r.error
}

describe('validateCycleRequest', () => {
  it('accepts requests in order and fills the default budget', () => {
    const a = minimalBody()
    const b = { ...fullBody(), market_id: 'm-2' }
    const r = validateCycleRequest({ requests: [a, b] }, STOCK_DEFAULTS, LIMITS)
    if (!r.ok) throw r.error
    expect(r.value.budget_ms).toBe(60_000)
    expect(r.value.requests.map((q) => q.market_id)).toEqual(['m-1', 'm-2'])
    expect(r.value.requests[1]?.quantiles).toEqual([0.1, 0.5, 0.9])
  })

  it('accepts an explicit budget, null meaning the default', () => {
    const r = validateCycleRequest({ requests: [minimalBody()], budget_ms: 1500.5 }, STOCK_DEFAULTS, LIMITS)
    expect(r.ok ? r.value.budget_ms : null).toBe(1500.5)
    const n = validateCycleRequest({ requests: [minimalBody()], budget_ms: null }, STOCK_DEFAULTS, LIMITS)
    expect(n.ok ? n.value.budget_ms : null).toBe(60_000)
  })

  it('takes its limits from server.cycle_max_requests and server.cycle_default_budget_ms', () => {
    expect(cycleLimitsFromConfig(DEFAULTS)).toEqual({ max_requests: 2000, default_budget_ms: 60_000 })
  })

  it('rejects the whole cycle for one bad element, naming its full path', () => {
    const bad = minimalBody()
    ;(bad['y'] as unknown[])[7] = 'abc'
    const e = rejection({ requests: [minimalBody(), bad, { market_id: 5 }] })
    expect([e.code, e.path]).toEqual(['TSFM_Y_VALUE', 'requests[1].y[7]'])
    expect(e.message.startsWith('requests[1].y[7] must be')).toBe(true)
    expect(e.message).toContain('"abc"')
  })

  it('names a nested member path of an element', () => {
    const e = rejection({ requests: [{ ...minimalBody(), transform: { space: 'log' } }] })
    expect([e.code, e.path]).toEqual(['TSFM_TRANSFORM', 'requests[0].transform.space'])
  })

  it('rejects an element that is not an object at its index', () => {
    const e = rejection({ requests: [minimalBody(), 'm-2'] })
    expect([e.code, e.path]).toEqual(['TSFM_BODY_NOT_OBJECT', 'requests[1]'])
    expect(e.message).toContain('"m-2"')
  })

  it.each([
    ['0', 0],
    ['a negative', -5],
    ['an over-long', CYCLE_MAX_BUDGET_MS + 1],
    ['a string', '60000'],
  ])('rejects %s budget_ms', (_label, budget) => {
    const e = rejection({ requests: [minimalBody()], budget_ms: budget })
    expect([e.code, e.path]).toEqual(['TSFM_CYCLE', 'budget_ms'])
    expect(e.message).toContain(quote(budget))
  })

  it('rejects missing requests', () => {
    const e = rejection({ budget_ms: 1000 })
    expect([e.code, e.path]).toEqual(['TSFM_FIELD_REQUIRED', 'requests'])
  })

  it('rejects requests that are not an array', () => {
    const e = rejection({ requests: minimalBody() })
    expect([e.code, e.path]).toEqual(['TSFM_CYCLE', 'requests'])
  })

  it('rejects an empty cycle and one over cycle_max_requests, quoting the count', () => {
    const empty = rejection({ requests: [] })
    expect([empty.code, empty.path]).toEqual(['TSFM_CYCLE', 'requests'])
    expect(empty.message).toContain('got 0')
    const many = rejection({ requests: [minimalBody(), minimalBody(), minimalBody(), minimalBody()] })
    expect([many.code, many.path]).toEqual(['TSFM_CYCLE', 'requests'])
    expect(many.message).toContain('got 4')
  })

  it.each([null, [], 'x', 3])('rejects the body %j with path null', (body) => {
    const e = rejection(body)
    expect([e.code, e.path]).toEqual(['TSFM_BODY_NOT_OBJECT', null])
  })

  it('turns a throwing getter into an error instead of throwing', () => {
    const body = {}
    Object.defineProperty(body, 'requests', {
      enumerable: true,
      get() {
        throw new Error('boom')
      },
    })
    expect(rejection(body).code).toBe('TSFM_BODY_NOT_OBJECT')
  })
})
