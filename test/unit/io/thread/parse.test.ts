import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errorDetail, nonFiniteLiteralsToNull, parseForecastAnswer } from '../../../../src/io/thread/parse.js'
import type { UpstreamJob } from '../../../../src/io/types.js'
import { makeJob } from '../../../helpers/upstream-jobs.js'

const H = 3
const QS = [0.1, 0.5, 0.9]

/** A tollama forecast for `id` whose value at (q index k, step t) is base + 10k + t. */
function forecast(id: string, base: number, quantiles: readonly number[] = QS, h = H): Record<string, unknown> {
  const paths: Record<string, number[]> = {}
  quantiles.forEach((q, k) => (paths[String(q)] = Array.from({ length: h }, (_, t) => base + 10 * k + t)))
  return { id, freq: '5min', start_timestamp: '2026-02-20T00:05:00Z', mean: paths['0.5'] ?? [], quantiles: paths }
}

function answer(forecasts: unknown[]): string {
  return JSON.stringify({ model: 'mock', forecasts, timing: { total_ms: 42 }, usage: null, warnings: null })
}

function jobs(n: number, extra: Partial<UpstreamJob> = {}): UpstreamJob[] {
  return Array.from({ length: n }, () => makeJob({ horizon: H, quantiles: QS, ...extra }))
}

const expected = (base: number): number[] => [base, base + 1, base + 2, base + 10, base + 11, base + 12, base + 20, base + 21, base + 22]

describe('parseForecastAnswer', () => {
  it('splits a batch by series id into quantile-major arrays, whatever the answer order', () => {
    const js = jobs(3)
    const ids = ['a', 'b', 'c']
    const out = parseForecastAnswer(answer([forecast('c', 300), forecast('a', 100), forecast('b', 200)]), js, ids)
    expect(out.map((v) => Array.from(v!))).toEqual([expected(100), expected(200), expected(300)])
  })

  it('fails only the member whose series is missing', () => {
    const out = parseForecastAnswer(answer([forecast('a', 1)]), jobs(2), ['a', 'b'])
    expect(out[0]).not.toBeNull()
    expect(out[1]).toBeNull()
  })

  it('fails every member when the ids are all wrong', () => {
    const out = parseForecastAnswer(answer([forecast('a~wrong', 1), forecast('b~wrong', 2)]), jobs(2), ['a', 'b'])
    expect(out).toEqual([null, null])
  })

  it('fails a member whose path has the wrong length', () => {
    const short = forecast('a', 1, QS, H - 1)
    const out = parseForecastAnswer(answer([short, forecast('b', 2)]), jobs(2), ['a', 'b'])
    expect(out[0]).toBeNull()
    expect(Array.from(out[1]!)).toEqual(expected(2))
  })

  it('fails a member when a requested quantile is missing, and ignores extra quantiles', () => {
    const out = parseForecastAnswer(answer([forecast('a', 1, [0.1, 0.5]), forecast('b', 2, [0.05, 0.1, 0.5, 0.9])]), jobs(2), ['a', 'b'])
    expect(out[0]).toBeNull()
    expect(Array.from(out[1]!)).toEqual([12, 13, 14, 22, 23, 24, 32, 33, 34])
  })

  it('fails only the member carrying a bare NaN literal (what Python json writes)', () => {
    const text = answer([forecast('a', 1), forecast('b', 2)]).replace('[1,2,3]', '[NaN,2,3]')
    expect(text).toContain('NaN')
    const out = parseForecastAnswer(text, jobs(2), ['a', 'b'])
    expect(out[0]).toBeNull()
    expect(Array.from(out[1]!)).toEqual(expected(2))
  })

  it('fails a member with Infinity, -Infinity, null or a string among its values', () => {
    for (const bad of ['Infinity', '-Infinity', 'null', '"1"']) {
      const text = answer([forecast('a', 1), forecast('b', 2)]).replace('[1,2,3]', `[1,${bad},3]`)
      expect(parseForecastAnswer(text, jobs(2), ['a', 'b']).map((v) => v !== null)).toEqual([false, true])
    }
  })

  it('fails every member when the body is HTML, truncated or empty', () => {
    const full = answer([forecast('a', 1)])
    for (const text of ['<!DOCTYPE html><html><body>502 Bad Gateway</body></html>', full.slice(0, full.length / 2), '', 'null', '[]', '{"forecasts":{}}']) {
      expect(parseForecastAnswer(text, jobs(1), ['a'])).toEqual([null])
    }
  })

  it('matches quantile keys as numbers (Python prints 1e-07, JavaScript 1e-7)', () => {
    const f = { id: 'a', quantiles: { '1e-07': [1], '0.5': [2] } }
    const out = parseForecastAnswer(answer([f]), jobs(1, { horizon: 1, quantiles: [1e-7, 0.5] }), ['a'])
    expect(Array.from(out[0]!)).toEqual([1, 2])
  })

  it('fails a member answered twice (ambiguous)', () => {
    const out = parseForecastAnswer(answer([forecast('a', 1), forecast('a', 5), forecast('b', 2)]), jobs(2), ['a', 'b'])
    expect(out[0]).toBeNull()
    expect(out[1]).not.toBeNull()
  })

  it('fails a member whose quantiles are null (a mean-only model)', () => {
    const out = parseForecastAnswer(answer([{ id: 'a', mean: [1, 2, 3], quantiles: null }]), jobs(1), ['a'])
    expect(out).toEqual([null])
  })

  it('reads the final response of an NDJSON stream (a daemon that ignored stream:false)', () => {
    const text = '{"status":"loading model"}\n{"status":"running forecast"}\n' + JSON.stringify({ done: true, response: JSON.parse(answer([forecast('a', 1)])) }) + '\n'
    expect(Array.from(parseForecastAnswer(text, jobs(1), ['a'])[0]!)).toEqual(expected(1))
  })

  it('never throws, whatever the body (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ forecasts: [v] }))), (text) => {
        const out = parseForecastAnswer(text, jobs(2), ['a', 'b'])
        expect(out).toHaveLength(2)
      }),
    )
  })
})

describe('nonFiniteLiteralsToNull', () => {
  it('replaces NaN, Infinity and -Infinity tokens but not text inside strings', () => {
    expect(nonFiniteLiteralsToNull('{"NaN-id":[NaN,-Infinity,Infinity,1],"s":"Infinity \\" NaN"}')).toBe(
      '{"NaN-id":[null,null,null,1],"s":"Infinity \\" NaN"}',
    )
  })

  it('returns the text unchanged when there is nothing to replace', () => {
    const text = '{"a":[1,2]}'
    expect(nonFiniteLiteralsToNull(text)).toBe(text)
  })
})

describe('errorDetail', () => {
  it('reads the detail string of a tollama error body', () => {
    expect(errorDetail('{"detail":"model \'x\' is not installed","hint":"Run tollama pull"}')).toBe("model 'x' is not installed")
    expect(errorDetail('{"detail":[{"loc":["body"]}]}')).toBeNull()
    expect(errorDetail('<html>')).toBeNull()
  })
})
