import { describe, expect, it } from 'vitest'
import { PairsInputError, parsePairLine } from '../../../src/conformal/pairs-file.js'

const FIELDS = ['liquidity_bucket', 'tte_bucket'] as const

function parse(text: string) {
  return parsePairLine(text, 'pairs.jsonl, line 3', FIELDS)
}

function message(text: string): string {
  try {
    parse(text)
  } catch (e) {
    expect(e).toBeInstanceOf(PairsInputError)
    return (e as Error).message
  }
  throw new Error(`parsed: ${text}`)
}

describe('parsePairLine', () => {
  it('reads this tool’s names and keys the pair by its segment fields in the order given', () => {
    expect(parse('{"tte_bucket": "0_24h", "q_low": 0.4, "median": 0.45, "q_high": 0.6, "actual": 0.52, "liquidity_bucket": "high"}')).toEqual({
      low: 0.4,
      median: 0.45,
      high: 0.6,
      actual: 0.52,
      segment: 'liquidity_bucket=high|tte_bucket=0_24h',
    })
  })

  it('reads the Python pipeline’s q10/q50/q90 and resolved_prob', () => {
    expect(parse('{"q10": 0.1, "q50": 0.2, "q90": 0.3, "resolved_prob": 1}')).toMatchObject({ low: 0.1, median: 0.2, high: 0.3, actual: 1 })
  })

  it('takes an absent or null median as none, and a missing or empty segment field as unknown', () => {
    expect(parse('{"q_low": 0.1, "q_high": 0.3, "actual": 0, "tte_bucket": ""}')).toEqual({ low: 0.1, median: null, high: 0.3, actual: 0, segment: 'liquidity_bucket=unknown|tte_bucket=unknown' })
    expect(parse('{"q_low": 0.1, "median": null, "q_high": 0.3, "actual": 0, "liquidity_bucket": 3}')).toMatchObject({ median: null, segment: 'liquidity_bucket=3|tte_bucket=unknown' })
  })

  it('skips a blank line', () => {
    expect(parse('   ')).toBeNull()
    expect(parse('')).toBeNull()
  })

  it('names the line and the field and quotes the value of a bad pair', () => {
    expect(message('{"q_low": 0.1, "q_high": 0.3, "actual": "0.5"}')).toBe('pairs.jsonl, line 3: actual should be a finite number, got "0.5"')
    expect(message('{"q_low": 0.1, "q_high": 1e999, "actual": 0.5}')).toBe('pairs.jsonl, line 3: q_high should be a finite number, got Infinity')
    expect(message('{"q10": null, "q_high": 0.3, "actual": 0.5}')).toBe('pairs.jsonl, line 3: q10 should be a finite number, got null')
    expect(message('{"q_low": 0.1, "actual": 0.5}')).toBe('pairs.jsonl, line 3: q_high (or q90) is missing')
    expect(message('{"q_low": 0.1, "q10": 0.1, "q_high": 0.3, "actual": 0.5}')).toBe('pairs.jsonl, line 3: both q_low and q10 are given (0.1 and 0.1); give one')
    expect(message('{"q_low": 0.1, "q_high": 0.3, "actual": 0.5, "tte_bucket": ["a"]}')).toBe('pairs.jsonl, line 3: tte_bucket should be a string, got ["a"]')
    expect(message('[0.1, 0.3, 0.5]')).toBe('pairs.jsonl, line 3: should be a JSON object, got [0.1,0.3,0.5]')
    expect(message('q_low=0.1')).toMatch(/^pairs\.jsonl, line 3: not JSON \(.+\): "q_low=0\.1"$/)
  })
})
