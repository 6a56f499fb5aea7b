import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ERRORS, TsfmError } from '../../../src/errors.js'
import type { ValidationResult } from '../../../src/request/validate.js'
import { validateForecastRequest } from '../../../src/request/validate.js'
import { fullBody, minimalBody, STOCK_DEFAULTS } from '../../helpers/request-bodies.js'

/**
 * Validation never throws and every outcome is well-formed: a TsfmError from the catalogue with
 * a 400-class status and a path, or a request whose invariants hold.
 */
function checkOutcome(body: unknown): ValidationResult {
  let r: ValidationResult
  try {
    r = validateForecastRequest(body, STOCK_DEFAULTS)
  } catch (e) {
    throw new Error(`validateForecastRequest threw: ${String(e)}`)
  }
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(TsfmError)
    expect(Object.hasOwn(ERRORS, r.error.code)).toBe(true)
    expect(r.error.status).toBe(400)
    expect(typeof r.error.message).toBe('string')
    expect(r.error.path === null || typeof r.error.path === 'string').toBe(true)
    return r
  }
  const v = r.value
  expect(v.y.length).toBeGreaterThanOrEqual(2)
  expect(v.y.length).toBeLessThanOrEqual(20_000)
  for (const x of v.y) expect(v.transform.space === 'logit' ? x >= 0 && x <= 1 : Number.isFinite(x)).toBe(true)
  expect(Number.isInteger(v.horizon_steps) && v.horizon_steps >= 1 && v.horizon_steps <= 1000).toBe(true)
  for (let i = 0; i < v.quantiles.length; i++) {
    const q = v.quantiles[i]!
    expect(q > 0 && q < 1).toBe(true)
    if (i > 0) expect(q).toBeGreaterThan(v.quantiles[i - 1]!)
  }
  expect(v.step_ms).toBeGreaterThan(0)
  expect(Number.isFinite(v.as_of_ms)).toBe(true)
  if (v.y_ts !== null) {
    expect(v.y_ts.length).toBe(v.y.length)
    for (let i = 1; i < v.y_ts.length; i++) expect((v.y_ts[i]! - v.y_ts[i - 1]!) % v.step_ms).toBe(0)
  }
  for (const s of Object.values(v.x_past)) expect(s.length).toBe(v.y.length)
  for (const [name, s] of Object.entries(v.x_future)) {
    expect(s.length).toBe(v.horizon_steps)
    expect(Object.hasOwn(v.x_past, name)).toBe(true)
  }
  return r
}

const FIELDS = [
  'market_id',
  'as_of_ts',
  'freq',
  'horizon_steps',
  'quantiles',
  'y',
  'y_ts',
  'max_gap_minutes',
  'x_past',
  'x_future',
  'transform',
  'model',
  'liquidity_bucket',
  'category',
  'tte_bucket',
  'rollout_stage',
  '__proto__',
  'constructor',
] as const

const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
})

/** A valid body with some top-level members replaced or deleted and some points of y/y_ts replaced. */
const mutatedBody = fc
  .record({
    base: fc.boolean(),
    fields: fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.option(anyValue, { nil: undefined })), { maxLength: 4 }),
    points: fc.array(fc.tuple(fc.constantFrom('y', 'y_ts'), fc.nat(7), anyValue), { maxLength: 3 }),
  })
  .map(({ base, fields, points }) => {
    const body = base ? fullBody(8) : minimalBody(8)
    for (const [key, index, value] of points) {
      const arr = body[key]
      if (Array.isArray(arr)) (arr as unknown[])[index] = value
    }
    for (const [key, value] of fields) {
      if (value === undefined) delete body[key]
      else Object.defineProperty(body, key, { value, enumerable: true, configurable: true, writable: true })
    }
    return body
  })

describe('validateForecastRequest under fuzzing', () => {
  it('never throws on any value at all', () => {
    fc.assert(
      fc.property(anyValue, (body) => {
        checkOutcome(body)
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on any JSON document, and rejects every non-object one', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const body: unknown = JSON.parse(text)
        const r = checkOutcome(body)
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          expect(r.ok ? null : r.error.code).toBe('TSFM_BODY_NOT_OBJECT')
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on mutated valid bodies, and holds every invariant when it accepts one', () => {
    let accepted = 0
    fc.assert(
      fc.property(mutatedBody, (body) => {
        if (checkOutcome(body).ok) accepted++
      }),
      { numRuns: 3000 },
    )
    // The generator must exercise both outcomes, or the invariants above were never checked.
    expect(accepted).toBeGreaterThan(100)
  })
})

/** An object whose every trap throws. */
function hostileProxy(target: object = {}): object {
  const boom = (): never => {
    throw new Error('trap')
  }
  return new Proxy(target, {
    get: boom,
    has: boom,
    ownKeys: boom,
    getOwnPropertyDescriptor: boom,
    getPrototypeOf: boom,
  })
}

function throwingGetter(key: string, base: Record<string, unknown> = minimalBody()): Record<string, unknown> {
  Object.defineProperty(base, key, {
    enumerable: true,
    get() {
      throw hostileProxy()
    },
  })
  return base
}

describe('validateForecastRequest with hostile objects (embedding API)', () => {
  const revoked = Proxy.revocable({}, {})
  revoked.revoke()

  const bodies: Array<[string, () => unknown]> = [
    ['a Proxy body whose traps throw', () => hostileProxy()],
    ['a revoked Proxy body', () => revoked.proxy],
    ['a getter on market_id that throws', () => throwingGetter('market_id')],
    ['a getter on y that throws', () => throwingGetter('y')],
    ['a Proxy y array whose traps throw', () => ({ ...minimalBody(), y: hostileProxy([0.1, 0.2]) })],
    ['a Proxy x_past', () => ({ ...minimalBody(), x_past: hostileProxy() })],
    ['a throwing getter inside x_past', () => ({ ...minimalBody(2), x_past: throwingGetter('volume', {}) })],
    ['a throwing getter inside model.params', () => ({ ...minimalBody(), model: { params: throwingGetter('k', {}) } })],
    ['a Proxy model.params', () => ({ ...minimalBody(), model: { params: hostileProxy() } })],
    ['a Proxy transform', () => ({ ...minimalBody(), transform: hostileProxy() })],
  ]

  it.each(bodies)('%s becomes a TsfmError', (_name, make) => {
    const r = checkOutcome(make())
    expect(r.ok).toBe(false)
  })

  it('reports an unreadable body as TSFM_BODY_NOT_OBJECT without the thrown text', () => {
    const r = validateForecastRequest(throwingGetter('market_id'), STOCK_DEFAULTS)
    if (r.ok) throw new Error('expected a rejection')
    expect(r.error.code).toBe('TSFM_BODY_NOT_OBJECT')
    expect(r.error.path).toBeNull()
    expect(r.error.message).not.toContain('trap')
  })

  it('reports cyclic model.params as TSFM_MODEL', () => {
    const params: Record<string, unknown> = {}
    params['self'] = params
    const r = validateForecastRequest({ ...minimalBody(), model: { params } }, STOCK_DEFAULTS)
    if (r.ok) throw new Error('expected a rejection')
    expect([r.error.code, r.error.path]).toEqual(['TSFM_MODEL', 'model.params'])
  })

  it('reports BigInt model.params as TSFM_MODEL', () => {
    const r = validateForecastRequest({ ...minimalBody(), model: { params: { n: 1n } } }, STOCK_DEFAULTS)
    expect(r.ok ? null : r.error.code).toBe('TSFM_MODEL')
  })

  it('survives model.params nested 100 000 deep', () => {
    let deep: Record<string, unknown> = {}
    for (let i = 0; i < 100_000; i++) deep = { d: deep }
    const r = checkOutcome({ ...minimalBody(), model: { params: deep } })
    expect(r.ok ? null : r.error.path).toBe('model.params')
  })
})
