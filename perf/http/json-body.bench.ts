/**
 * Parsing the JSON body of `POST /tsfm/forecast` (288 points with timestamps, ~12 KB): fastify's
 * default JSON parser (secure-json-parse: JSON.parse, then two prototype-poisoning regexps over
 * the text) against ours (src/http/json-body.ts: the same, with the regexps replaced by three
 * `indexOf` scans when they cannot match), with bare JSON.parse and the pieces for scale.
 *
 *   node dist/perf/http/json-body.bench.js
 */
import Fastify, { type FastifyRequest } from 'fastify'
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { jsonBodyParser, mayHideForbiddenKey, type StringBodyParser } from '../../src/http/json-body.js'
import { forecastBodyText } from './forecast-bodies.js'
import { saveResults } from './results.js'

const app = Fastify()
const fastifyJson = app.getDefaultJsonParser('error', 'error') as StringBodyParser
const ours = jsonBodyParser(fastifyJson)
const req = { server: app } as unknown as FastifyRequest
const text = forecastBodyText(1)

let parsed: unknown = null
const done = (err: Error | null, body?: unknown): void => {
  if (err !== null) throw err
  parsed = body
}
for (const parse of [fastifyJson, ours]) {
  parsed = null
  parse(req, text, done)
  if (JSON.stringify(parsed) !== JSON.stringify(JSON.parse(text))) throw new Error('the parsers disagree')
}

const protoRx = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/
const constructorRx = /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/

group(`JSON body of a 288-point request, ${text.length} B`, () => {
  summary(() => {
    bench("old: fastify's default parser (secure-json-parse)", () => {
      fastifyJson(req, text, done)
      do_not_optimize(parsed)
    })
    bench('new: jsonBodyParser (indexOf pre-check)', () => {
      ours(req, text, done)
      do_not_optimize(parsed)
    })
    bench('bare JSON.parse', () => do_not_optimize(JSON.parse(text)))
  })
})

group('the check alone', () => {
  summary(() => {
    bench("old: secure-json-parse's two regexps", () => do_not_optimize(protoRx.test(text) || constructorRx.test(text)))
    bench('new: mayHideForbiddenKey (three indexOf)', () => do_not_optimize(mayHideForbiddenKey(text)))
  })
})

const results = await run()
const rows = results.benchmarks.flatMap((t) => t.runs.map((r) => ({ name: r.name, avg_ns: r.stats === undefined ? null : Math.round(r.stats.avg) })))
console.log(`saved ${saveResults('http.json', 'json_body', { body_bytes: text.length, benchmarks: rows })}`)
