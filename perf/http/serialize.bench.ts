/**
 * Serialising the forecast answer (the hot payload of `POST /tsfm/forecast`): fastify's compiled
 * serializer (fast-json-stringify from `forecastResponseSchema`, src/http/schemas.ts) against
 * JSON.stringify, for the default answer (12 steps × 3 quantiles) and a large one (288 steps ×
 * 9 quantiles); and, for cache hits, src/http/forecast-json.ts, which keeps the serialized body
 * of a cached answer — everything but `meta`, which changes per answer — so a hit serialises
 * only `meta` (the answers here are cache hits; the route uses ForecastJson since this run).
 *
 *   node dist/perf/http/serialize.bench.js
 */
import { NOT_LOADED } from '../../src/conformal/choice.js'
import fastJson from 'fast-json-stringify'
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { ForecastJson, type Serializer } from '../../src/http/forecast-json.js'
import { forecastHeadSchema, forecastMetaSchema, forecastResponseSchema } from '../../src/http/schemas.js'
import type { ForecastResponse } from '../../src/response.js'
import { bandToPaths, buildAnswer, reanswer } from '../../src/supervisor/answer.js'
import { saveResults } from './results.js'

const serialize = fastJson(forecastResponseSchema)

function answer(horizon: number, quantiles: readonly number[]): ForecastResponse {
  const band = new Float64Array(horizon * quantiles.length)
  for (let qi = 0; qi < quantiles.length; qi++) {
    for (let h = 0; h < horizon; h++) band[qi * horizon + h] = 0.3 + 0.05 * qi + 0.4 * Math.sin(h / 7 + qi) ** 2
  }
  const req = {
    market_id: 'm-1',
    as_of_ts: '2026-02-20T00:00:00Z',
    freq: '5m',
    horizon_steps: horizon,
    quantiles,
    model: { provider: 'tollama', model_name: 'chronos2', model_version: null, params: {} },
    transform: { space: 'logit', eps: 1e-6 },
  } as unknown as Parameters<typeof buildAnswer>[0]
  const base = buildAnswer(
    req,
    bandToPaths(band, quantiles, horizon),
    { runtime: 'tollama', reason: null, warnings: [], route: { selected: 'tsfm', reason: 'default', segment: null }, cacheHit: false, cacheStale: false },
    { breaker: 'closed', mode: 'normal', conformal: NOT_LOADED },
    { queue: 0.012, upstream: 14.913, total: 15.602 },
    288,
  )
  return reanswer(base, { cacheHit: true, cacheStale: false }, { breaker: 'closed', mode: 'normal', conformal: NOT_LOADED }, { queue: 0, upstream: 0, total: 0.031 })
}

/** What the route uses now (src/http/forecast-json.ts), compiled from the two halves of the schema. */
const forecastJson = new ForecastJson(fastJson(forecastHeadSchema) as Serializer, fastJson(forecastMetaSchema) as Serializer)

const cases: [string, string, ForecastResponse][] = [
  ['default', 'default answer (12 steps × 3 quantiles)', answer(12, [0.1, 0.5, 0.9])],
  ['large', 'large answer (288 steps × 9 quantiles)', answer(288, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])],
]

for (const [tag, name, a] of cases) {
  // All three must produce the same document.
  const expected = JSON.stringify(JSON.parse(JSON.stringify(a)))
  if (JSON.stringify(JSON.parse(serialize(a))) !== expected || forecastJson.stringify(a) !== serialize(a)) {
    throw new Error(`serializers disagree on ${name}`)
  }
  group(`${name}, ${serialize(a).length} B`, () => {
    summary(() => {
      bench(`JSON.stringify [${tag}]`, () => do_not_optimize(JSON.stringify(a)))
      bench(`fast-json-stringify, our schema (fastify's serializer) [${tag}]`, () => do_not_optimize(serialize(a)))
      bench(`ForecastJson: body cached, only meta serialised [${tag}]`, () => do_not_optimize(forecastJson.stringify(a)))
    })
  })
}

const results = await run()
const rows = results.benchmarks.flatMap((t) => t.runs.map((r) => ({ name: r.name, avg_ns: r.stats === undefined ? null : Math.round(r.stats.avg) })))
console.log(`saved ${saveResults('http.json', 'serialize', { benchmarks: rows })}`)
