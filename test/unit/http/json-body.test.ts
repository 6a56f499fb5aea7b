import Fastify, { type FastifyRequest } from 'fastify'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonBodyParser, mayHideForbiddenKey, type StringBodyParser } from '../../../src/http/json-body.js'

const app = Fastify()
const fastifyJson = app.getDefaultJsonParser('error', 'error') as StringBodyParser
const req = { server: app } as unknown as FastifyRequest

type Outcome = { ok: true; value: unknown } | { ok: false; code: unknown; message: string }

function parseWith(parser: StringBodyParser, text: string): Outcome {
  let out: Outcome | null = null
  parser(req, text, (err, body) => {
    out = err === null ? { ok: true, value: body } : { ok: false, code: (err as { code?: unknown }).code, message: err.message }
  })
  if (out === null) throw new Error('the parser did not call back synchronously')
  return out
}

/** Our parser over a fallback that records what it was handed. */
function spied(): { parser: StringBodyParser; handed: string[] } {
  const handed: string[] = []
  const parser = jsonBodyParser((r, body, done) => {
    handed.push(body)
    fastifyJson(r, body, done)
  })
  return { parser, handed }
}

describe('jsonBodyParser', () => {
  it('parses a clean body itself', () => {
    const { parser, handed } = spied()
    expect(parseWith(parser, '{"market_id":"m-1","y":[0.1,0.2]}')).toEqual({ ok: true, value: { market_id: 'm-1', y: [0.1, 0.2] } })
    expect(handed).toEqual([])
  })

  it.each([
    ['a __proto__ key', '{"__proto__":{"x":1}}'],
    ['a constructor key', '{"constructor":{"prototype":{"x":1}}}'],
    ['an escaped __proto__ key', '{"\\u005f_proto__":{"x":1}}'],
    ['any escape', '{"a":"b\\"c"}'],
    ['a BOM', '\uFEFF{"a":1}'],
    ['an empty body', ''],
    ['invalid JSON', '{"a":'],
    ['the word constructor in a value', '{"note":"constructor"}'],
  ])("hands %s to fastify's parser", (_what, text) => {
    const { parser, handed } = spied()
    expect(parseWith(parser, text)).toEqual(parseWith(fastifyJson, text))
    expect(handed).toEqual([text])
  })

  it("rejects a __proto__ key exactly as fastify's parser does", () => {
    const outcome = parseWith(jsonBodyParser(fastifyJson), '{"a":1,"__proto__":{"x":1}}')
    expect(outcome.ok).toBe(false)
    expect(outcome).toEqual(parseWith(fastifyJson, '{"a":1,"__proto__":{"x":1}}'))
  })

  it("agrees with fastify's parser on any JSON text, poisoned or not", () => {
    const key = fc.constantFrom('a', '__proto__', 'constructor', '\\u005f_proto__', 'prototype', 'c\\u006fnstructor')
    const poisoned = fc.tuple(fc.json(), key, fc.json()).map(([doc, k, v]) => `{"${k}":${v},"doc":${doc}}`)
    const text = fc.oneof(fc.json(), poisoned, fc.string({ maxLength: 20 }))
    fc.assert(
      fc.property(text, (t) => {
        expect(parseWith(jsonBodyParser(fastifyJson), t)).toEqual(parseWith(fastifyJson, t))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('mayHideForbiddenKey', () => {
  it.each([
    ['{"a":1}', false],
    ['{"__proto__":1}', true],
    ['{"constructor":1}', true],
    ['{"a":"\\n"}', true],
  ])('%s → %s', (text, expected) => {
    expect(mayHideForbiddenKey(text)).toBe(expected)
  })
})
