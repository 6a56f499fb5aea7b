import { describe, expect, it } from 'vitest'
import type { ErrorCode } from '../../../src/errors.js'
import { quote, TsfmError } from '../../../src/errors.js'
import { validateForecastRequest } from '../../../src/request/validate.js'
import { fiveMinuteStamps, fullBody, minimalBody, probabilities, STOCK_DEFAULTS } from '../../helpers/request-bodies.js'

/**
 * One case per rejection of SPEC §2.1 / the issue: each asserts the stable code, the JSON path,
 * and that the message starts with the path and quotes the offending value.
 */
interface Case {
  readonly name: string
  /** Turns a valid full body (8 points, horizon 12, x_past/x_future `volume`) into a bad one. */
  readonly mutate: (body: Record<string, unknown>) => void
  readonly code: ErrorCode
  readonly path: string
  /** The value the message must quote (a count for length errors). */
  readonly value: unknown
}

const LONG_257 = 'm'.repeat(257)
const LONG_129 = 'c'.repeat(129)

function setY(i: number, v: unknown) {
  return (b: Record<string, unknown>) => {
    ;(b['y'] as unknown[])[i] = v
  }
}
function setYTs(i: number, v: unknown) {
  return (b: Record<string, unknown>) => {
    ;(b['y_ts'] as unknown[])[i] = v
  }
}
function set(key: string, v: unknown) {
  return (b: Record<string, unknown>) => {
    b[key] = v
  }
}
/** `levels` arrays, one inside the other. */
function nested(levels: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = [v]
  return v
}
function drop(key: string) {
  return (b: Record<string, unknown>) => {
    delete b[key]
  }
}

const cases: Case[] = [
  // ---- required fields ---------------------------------------------------------------
  { name: 'a missing market_id', mutate: drop('market_id'), code: 'TSFM_FIELD_REQUIRED', path: 'market_id', value: undefined },
  { name: 'a null market_id', mutate: set('market_id', null), code: 'TSFM_FIELD_REQUIRED', path: 'market_id', value: null },
  { name: 'a missing as_of_ts', mutate: drop('as_of_ts'), code: 'TSFM_FIELD_REQUIRED', path: 'as_of_ts', value: undefined },
  { name: 'a missing y', mutate: drop('y'), code: 'TSFM_FIELD_REQUIRED', path: 'y', value: undefined },
  { name: 'a null y', mutate: set('y', null), code: 'TSFM_FIELD_REQUIRED', path: 'y', value: null },

  // ---- market_id ---------------------------------------------------------------------
  { name: 'a numeric market_id', mutate: set('market_id', 42), code: 'TSFM_FIELD_TYPE', path: 'market_id', value: 42 },
  { name: 'an empty market_id', mutate: set('market_id', ''), code: 'TSFM_FIELD_RANGE', path: 'market_id', value: '' },
  { name: 'a 257-char market_id', mutate: set('market_id', LONG_257), code: 'TSFM_FIELD_RANGE', path: 'market_id', value: LONG_257 },

  // ---- as_of_ts ----------------------------------------------------------------------
  { name: 'a prose as_of_ts', mutate: set('as_of_ts', 'yesterday'), code: 'TSFM_TIMESTAMP', path: 'as_of_ts', value: 'yesterday' },
  { name: 'an as_of_ts on Feb 30', mutate: set('as_of_ts', '2026-02-30T00:00:00Z'), code: 'TSFM_TIMESTAMP', path: 'as_of_ts', value: '2026-02-30T00:00:00Z' },
  { name: 'epoch seconds as a string', mutate: set('as_of_ts', '1771545600'), code: 'TSFM_TIMESTAMP', path: 'as_of_ts', value: '1771545600' },
  { name: 'epoch milliseconds', mutate: set('as_of_ts', 1771545600000), code: 'TSFM_TIMESTAMP', path: 'as_of_ts', value: 1771545600000 },
  { name: 'negative epoch seconds', mutate: set('as_of_ts', -1), code: 'TSFM_TIMESTAMP', path: 'as_of_ts', value: -1 },
  { name: 'a boolean as_of_ts', mutate: set('as_of_ts', true), code: 'TSFM_TIMESTAMP', path: 'as_of_ts', value: true },

  // ---- y values ----------------------------------------------------------------------
  { name: 'a non-numeric y value', mutate: setY(3, 'abc'), code: 'TSFM_Y_VALUE', path: 'y[3]', value: 'abc' },
  { name: 'a numeric string in y', mutate: setY(2, '0.5'), code: 'TSFM_Y_VALUE', path: 'y[2]', value: '0.5' },
  { name: '"NaN" in y', mutate: setY(0, 'NaN'), code: 'TSFM_Y_VALUE', path: 'y[0]', value: 'NaN' },
  { name: '"Infinity" in y', mutate: setY(7, 'Infinity'), code: 'TSFM_Y_VALUE', path: 'y[7]', value: 'Infinity' },
  { name: 'a null y value', mutate: setY(5, null), code: 'TSFM_Y_VALUE', path: 'y[5]', value: null },
  { name: 'a boolean y value', mutate: setY(1, true), code: 'TSFM_Y_VALUE', path: 'y[1]', value: true },
  { name: 'a NaN number in y (embedding API)', mutate: setY(4, Number.NaN), code: 'TSFM_Y_VALUE', path: 'y[4]', value: Number.NaN },
  { name: 'an infinite number in y (embedding API)', mutate: setY(4, Number.POSITIVE_INFINITY), code: 'TSFM_Y_VALUE', path: 'y[4]', value: Number.POSITIVE_INFINITY },
  { name: 'a y value above 1 in logit space', mutate: setY(6, 1.5), code: 'TSFM_Y_VALUE', path: 'y[6]', value: 1.5 },
  { name: 'a negative y value in logit space', mutate: setY(6, -0.1), code: 'TSFM_Y_VALUE', path: 'y[6]', value: -0.1 },
  {
    name: 'an infinite y value in identity space',
    mutate: (b) => {
      b['transform'] = { space: 'identity' }
      ;(b['y'] as unknown[])[3] = Number.NEGATIVE_INFINITY
    },
    code: 'TSFM_Y_VALUE',
    path: 'y[3]',
    value: Number.NEGATIVE_INFINITY,
  },
  { name: 'a y that is not an array', mutate: set('y', '0.5,0.6'), code: 'TSFM_Y_VALUE', path: 'y', value: '0.5,0.6' },

  // ---- y length ----------------------------------------------------------------------
  {
    name: 'a single point',
    mutate: (b) => {
      Object.assign(b, { y: [0.5], y_ts: null, x_past: null })
    },
    code: 'TSFM_Y_LENGTH',
    path: 'y',
    value: 1,
  },
  {
    name: '20 001 points',
    mutate: (b) => {
      Object.assign(b, { y: probabilities(20_001), y_ts: null, x_past: null })
    },
    code: 'TSFM_Y_LENGTH',
    path: 'y',
    value: 20_001,
  },

  // ---- freq --------------------------------------------------------------------------
  { name: 'freq "0m"', mutate: set('freq', '0m'), code: 'TSFM_FREQ', path: 'freq', value: '0m' },
  { name: 'freq "-5m"', mutate: set('freq', '-5m'), code: 'TSFM_FREQ', path: 'freq', value: '-5m' },
  { name: 'freq "5min"', mutate: set('freq', '5min'), code: 'TSFM_FREQ', path: 'freq', value: '5min' },
  { name: 'freq "1d"', mutate: set('freq', '1d'), code: 'TSFM_FREQ', path: 'freq', value: '1d' },
  { name: 'freq ""', mutate: set('freq', ''), code: 'TSFM_FREQ', path: 'freq', value: '' },
  { name: 'freq "5M" (pandas month end)', mutate: set('freq', '5M'), code: 'TSFM_FREQ', path: 'freq', value: '5M' },
  { name: 'a numeric freq', mutate: set('freq', 5), code: 'TSFM_FREQ', path: 'freq', value: 5 },

  // ---- horizon_steps -----------------------------------------------------------------
  { name: 'horizon_steps 0', mutate: set('horizon_steps', 0), code: 'TSFM_HORIZON', path: 'horizon_steps', value: 0 },
  { name: 'horizon_steps 1001', mutate: set('horizon_steps', 1001), code: 'TSFM_HORIZON', path: 'horizon_steps', value: 1001 },
  { name: 'a fractional horizon_steps', mutate: set('horizon_steps', 12.5), code: 'TSFM_HORIZON', path: 'horizon_steps', value: 12.5 },
  { name: 'horizon_steps as a string', mutate: set('horizon_steps', '12'), code: 'TSFM_HORIZON', path: 'horizon_steps', value: '12' },

  // ---- quantiles ---------------------------------------------------------------------
  { name: 'a quantile of 0', mutate: set('quantiles', [0, 0.5]), code: 'TSFM_QUANTILES', path: 'quantiles[0]', value: 0 },
  { name: 'a quantile of 1', mutate: set('quantiles', [0.5, 1]), code: 'TSFM_QUANTILES', path: 'quantiles[1]', value: 1 },
  { name: 'a quantile above 1', mutate: set('quantiles', [0.1, 1.5]), code: 'TSFM_QUANTILES', path: 'quantiles[1]', value: 1.5 },
  { name: 'a quantile as a string', mutate: set('quantiles', ['0.5']), code: 'TSFM_QUANTILES', path: 'quantiles[0]', value: '0.5' },
  { name: 'a duplicated quantile', mutate: set('quantiles', [0.5, 0.1, 0.5]), code: 'TSFM_QUANTILES', path: 'quantiles[2]', value: 0.5 },
  { name: 'empty quantiles', mutate: set('quantiles', []), code: 'TSFM_QUANTILES', path: 'quantiles', value: [] },
  {
    name: '21 quantiles',
    mutate: set('quantiles', Array.from({ length: 21 }, (_, i) => (i + 1) / 22)),
    code: 'TSFM_QUANTILES',
    path: 'quantiles',
    value: Array.from({ length: 21 }, (_, i) => (i + 1) / 22),
  },
  { name: 'quantiles that are not an array', mutate: set('quantiles', 0.5), code: 'TSFM_QUANTILES', path: 'quantiles', value: 0.5 },

  // ---- y_ts --------------------------------------------------------------------------
  { name: 'y_ts of the wrong length', mutate: set('y_ts', fiveMinuteStamps(7)), code: 'TSFM_Y_TS', path: 'y_ts', value: 7 },
  { name: 'an unparsable y_ts item', mutate: setYTs(2, '20/02/2026 00:10'), code: 'TSFM_Y_TS', path: 'y_ts[2]', value: '20/02/2026 00:10' },
  { name: 'a numeric y_ts item', mutate: setYTs(2, 1771545600), code: 'TSFM_Y_TS', path: 'y_ts[2]', value: 1771545600 },
  {
    name: 'a repeated y_ts item (not strictly increasing)',
    mutate: (b) => {
      const ts = b['y_ts'] as string[]
      ts[4] = ts[3]!
    },
    code: 'TSFM_Y_TS',
    path: 'y_ts[4]',
    value: fiveMinuteStamps(8)[3],
  },
  {
    name: 'a decreasing y_ts item',
    mutate: setYTs(5, fiveMinuteStamps(8)[1]),
    code: 'TSFM_Y_TS',
    path: 'y_ts[5]',
    value: fiveMinuteStamps(8)[1],
  },
  {
    name: 'an unzoned y_ts item among zoned ones',
    mutate: setYTs(6, fiveMinuteStamps(8, '')[6]),
    code: 'TSFM_Y_TS',
    path: 'y_ts[6]',
    value: fiveMinuteStamps(8, '')[6],
  },
  {
    name: 'a zoned y_ts item among unzoned ones',
    mutate: (b) => {
      const ts = fiveMinuteStamps(8, '')
      ts[1] = fiveMinuteStamps(8, '+00:00')[1]!
      b['y_ts'] = ts
    },
    code: 'TSFM_Y_TS',
    path: 'y_ts[1]',
    value: fiveMinuteStamps(8, '+00:00')[1],
  },
  { name: 'a y_ts item off the freq grid', mutate: setYTs(7, '2026-02-20T00:03:00Z'), code: 'TSFM_Y_TS', path: 'y_ts[7]', value: '2026-02-20T00:03:00Z' },
  { name: 'a y_ts that is not an array', mutate: set('y_ts', '2026-02-20T00:00:00Z'), code: 'TSFM_Y_TS', path: 'y_ts', value: '2026-02-20T00:00:00Z' },

  // ---- transform ---------------------------------------------------------------------
  { name: 'an unknown transform space', mutate: set('transform', { space: 'log' }), code: 'TSFM_TRANSFORM', path: 'transform.space', value: 'log' },
  { name: 'an eps of 0', mutate: set('transform', { space: 'logit', eps: 0 }), code: 'TSFM_TRANSFORM', path: 'transform.eps', value: 0 },
  { name: 'an eps above 0.01', mutate: set('transform', { eps: 0.02 }), code: 'TSFM_TRANSFORM', path: 'transform.eps', value: 0.02 },
  { name: 'an eps as a string', mutate: set('transform', { eps: '1e-6' }), code: 'TSFM_TRANSFORM', path: 'transform.eps', value: '1e-6' },
  { name: 'a transform that is a string', mutate: set('transform', 'logit'), code: 'TSFM_TRANSFORM', path: 'transform', value: 'logit' },

  // ---- max_gap_minutes ---------------------------------------------------------------
  { name: 'a negative max_gap_minutes', mutate: set('max_gap_minutes', -1), code: 'TSFM_FIELD_RANGE', path: 'max_gap_minutes', value: -1 },
  { name: 'max_gap_minutes as a string', mutate: set('max_gap_minutes', '60'), code: 'TSFM_FIELD_TYPE', path: 'max_gap_minutes', value: '60' },

  // ---- covariates --------------------------------------------------------------------
  { name: 'an x_past series shorter than y', mutate: set('x_past', { volume: [1, 2, 3] }), code: 'TSFM_COVARIATES', path: 'x_past.volume', value: 3 },
  { name: 'an x_future series not horizon_steps long', mutate: set('x_future', { volume: [1] }), code: 'TSFM_COVARIATES', path: 'x_future.volume', value: 1 },
  {
    name: 'an x_future name missing from x_past',
    mutate: (b) => {
      b['x_future'] = { spread: probabilities(12) }
    },
    code: 'TSFM_COVARIATES',
    path: 'x_future.spread',
    value: 'spread',
  },
  {
    name: 'a non-numeric covariate value',
    mutate: (b) => {
      ;((b['x_past'] as Record<string, unknown[]>)['volume'] as unknown[])[2] = 'n/a'
    },
    code: 'TSFM_COVARIATES',
    path: 'x_past.volume[2]',
    value: 'n/a',
  },
  { name: 'a covariate that is not an array', mutate: set('x_past', { 'bid ask': 3 }), code: 'TSFM_COVARIATES', path: 'x_past["bid ask"]', value: 3 },
  { name: 'x_past that is an array', mutate: set('x_past', [[1, 2]]), code: 'TSFM_COVARIATES', path: 'x_past', value: [[1, 2]] },
  { name: 'an empty covariate name', mutate: set('x_past', { '': probabilities(8) }), code: 'TSFM_COVARIATES', path: 'x_past', value: '' },
  {
    name: 'a 65-char covariate name',
    mutate: set('x_past', { ['v'.repeat(65)]: probabilities(8) }),
    code: 'TSFM_COVARIATES',
    path: 'x_past',
    value: 'v'.repeat(65),
  },
  {
    name: '33 covariates',
    mutate: (b) => {
      const x: Record<string, number[]> = {}
      for (let i = 0; i < 33; i++) x[`c${i}`] = probabilities(8)
      b['x_past'] = x
    },
    code: 'TSFM_COVARIATES',
    path: 'x_past',
    value: 33,
  },

  // ---- model -------------------------------------------------------------------------
  { name: 'a model that is a string', mutate: set('model', 'chronos'), code: 'TSFM_MODEL', path: 'model', value: 'chronos' },
  { name: 'a numeric model_name', mutate: set('model', { model_name: 5 }), code: 'TSFM_MODEL', path: 'model.model_name', value: 5 },
  { name: 'an empty provider', mutate: set('model', { provider: '' }), code: 'TSFM_MODEL', path: 'model.provider', value: '' },
  { name: 'a numeric model_version', mutate: set('model', { model_version: 2 }), code: 'TSFM_MODEL', path: 'model.model_version', value: 2 },
  { name: 'params that are an array', mutate: set('model', { params: [1] }), code: 'TSFM_MODEL', path: 'model.params', value: [1] },
  {
    name: 'params over 16 KiB',
    mutate: set('model', { params: { blob: 'x'.repeat(20_000) } }),
    code: 'TSFM_MODEL',
    path: 'model.params',
    value: 20_011,
  },
  {
    name: 'params nested 33 levels deep',
    mutate: set('model', { params: { k: nested(32) } }),
    code: 'TSFM_MODEL',
    path: 'model.params',
    value: 33,
  },

  // ---- segments ----------------------------------------------------------------------
  { name: 'a numeric liquidity_bucket', mutate: set('liquidity_bucket', 3), code: 'TSFM_FIELD_TYPE', path: 'liquidity_bucket', value: 3 },
  { name: 'a 129-char category', mutate: set('category', LONG_129), code: 'TSFM_FIELD_RANGE', path: 'category', value: LONG_129 },
  { name: 'an object tte_bucket', mutate: set('tte_bucket', { d: 1 }), code: 'TSFM_FIELD_TYPE', path: 'tte_bucket', value: { d: 1 } },
  { name: 'a boolean rollout_stage', mutate: set('rollout_stage', false), code: 'TSFM_FIELD_TYPE', path: 'rollout_stage', value: false },
]

describe('validateForecastRequest rejects', () => {
  it.each(cases)('$name', ({ mutate, code, path, value }) => {
    const body = fullBody(8)
    mutate(body)
    const r = validateForecastRequest(body, STOCK_DEFAULTS)
    if (r.ok) throw new Error('expected a rejection')
    expect(r.error).toBeInstanceOf(TsfmError)
    expect(r.error.code).toBe(code)
    expect(r.error.status).toBe(400)
    expect(r.error.path).toBe(path)
    expect(r.error.message.startsWith(`${path} `)).toBe(true)
    expect(r.error.message).toContain(quote(value))
  })

  it.each([
    ['null', null],
    ['an array', [minimalBody()]],
    ['a string', '{"market_id":"m-1"}'],
    ['a number', 42],
  ])('a body that is %s, with path null', (_label, body) => {
    const r = validateForecastRequest(body, STOCK_DEFAULTS)
    if (r.ok) throw new Error('expected a rejection')
    expect(r.error.code).toBe('TSFM_BODY_NOT_OBJECT')
    expect(r.error.path).toBeNull()
    expect(r.error.message).toContain(quote(body))
  })

  it('reports the first bad field in the documented order (market_id before y)', () => {
    const body = fullBody(8)
    body['market_id'] = 7
    ;(body['y'] as unknown[])[0] = 'x'
    const r = validateForecastRequest(body, STOCK_DEFAULTS)
    expect(r.ok ? null : r.error.path).toBe('market_id')
  })

  it('checks y against the transform given in the same body, not the default', () => {
    const body = minimalBody()
    body['transform'] = { space: 'identity' }
    ;(body['y'] as number[])[0] = 42
    expect(validateForecastRequest(body, STOCK_DEFAULTS).ok).toBe(true)
    body['transform'] = null
    const r = validateForecastRequest(body, STOCK_DEFAULTS)
    expect(r.ok ? null : r.error.path).toBe('y[0]')
  })

  it('caps a quoted value at 80 characters however large it is', () => {
    const body = minimalBody()
    body['market_id'] = 'x'.repeat(1_000_000)
    const r = validateForecastRequest(body, STOCK_DEFAULTS)
    if (r.ok) throw new Error('expected a rejection')
    expect(r.error.message.length).toBeLessThan(200)
  })
})
