import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js'
import { probabilities } from '../../helpers/request-bodies.js'

/** `GET /openapi.json`: a valid OpenAPI 3.1 document that the live answers match. */
describe('GET /openapi.json', () => {
  let d: TestDaemon
  let doc: any

  beforeAll(async () => {
    d = await startTestDaemon()
    doc = (await call(d.url, '/openapi.json')).body
  })
  afterAll(async () => {
    await d.close()
  })

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(doc.openapi).toBe('3.1.0')
  })

  it('lists every route the daemon serves', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(['/health/live', '/health/ready', '/health/startup', '/metrics', '/openapi.json', '/tsfm/cycle', '/tsfm/forecast', '/tsfm/outcomes', '/tsfm/state'])
  })

  it('describes the live requests and answers: a forecast, a cycle, an error, an outcome refusal', async () => {
    const ajv = new Ajv2020({ strict: false })
    const schemaOf = (path: string, status: string, type = 'application/json') => doc.paths[path].post.responses[status].content[type].schema
    const request = { market_id: 'oa-1', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64), liquidity_bucket: 'high' }
    expect(ajv.validate(doc.paths['/tsfm/forecast'].post.requestBody.content['application/json'].schema, request), ajv.errorsText()).toBe(true)
    const cases: Array<[string, unknown, string]> = [
      ['/tsfm/forecast', request, '200'],
      ['/tsfm/forecast', { market_id: 'x' }, '400'],
      ['/tsfm/cycle', { requests: [request, { ...request, market_id: 'oa-2', y: probabilities(8) }] }, '200'],
      ['/tsfm/outcomes', { outcomes: [] }, '409'],
    ]
    for (const [path, body, status] of cases) {
      const r = await call(d.url, path, { body })
      expect(String(r.status)).toBe(status)
      expect(ajv.validate(schemaOf(path, status), r.body), `${path} ${status}: ${ajv.errorsText()}`).toBe(true)
    }
    // The schemas are not vacuous: a wrong answer fails them.
    expect(ajv.validate(schemaOf('/tsfm/forecast', '200'), { market_id: 1 })).toBe(false)
  })
})
