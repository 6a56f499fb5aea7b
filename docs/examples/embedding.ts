import { createRunner } from 'tsfm-runner'
import { startSimulator } from 'tsfm-runner/sim'

// A stand-in for tollama so the example runs anywhere; point base_url at a real daemon instead.
const sim = await startSimulator({ port: 0 })
const runner = await createRunner({ config: { tsfm: { adapter: { base_url: sim.url } } } })
runner.on('mode', (e) => console.log(`mode ${e.from} -> ${e.to}`))

const y = Array.from({ length: 288 }, (_, i) => 0.5 + 0.2 * Math.sin(i / 20))
const res = await runner.forecast(
  { market_id: 'm-1', as_of_ts: '2026-02-20T00:00:00Z', y },
  { signal: AbortSignal.timeout(2_000) },
)
console.log(res.meta.runtime, res.yhat_q['0.5']?.length, res.meta.fallback_reason)

// A top-N cycle: priority order (liquidity high first), always inside the budget.
const requests = ['a', 'b', 'c'].map((id, i) => ({
  market_id: id,
  as_of_ts: '2026-02-20T00:00:00Z',
  y,
  liquidity_bucket: i === 2 ? 'high' : 'mid',
}))
for await (const { index, response } of runner.cycle(requests, { budgetMs: 5_000 })) {
  console.log(index, response.market_id, response.meta.runtime)
}

console.log(runner.state().breaker.state)
await runner.close()
await sim.close()
