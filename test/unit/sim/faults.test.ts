import { describe, expect, it } from 'vitest'
import { FaultPlan, faultPhase } from '../../../src/sim/faults.js'
import { FAULT_KINDS, type FaultKind } from '../../../src/sim/types.js'

function draw(plan: FaultPlan, n: number): (FaultKind | null)[] {
  return Array.from({ length: n }, () => plan.next())
}

describe('FaultPlan', () => {
  it('answers normally with no schedule and no rates', () => {
    expect(draw(new FaultPlan({}, [], 1), 3)).toEqual([null, null, null])
  })

  it('consumes the schedule in order ("ok" = no fault) before the rates apply', () => {
    const plan = new FaultPlan({ http_500: 1 }, ['reset', 'ok', 'hang'], 1)
    expect(plan.scheduleRemaining).toBe(3)
    expect(draw(plan, 5)).toEqual(['reset', null, 'hang', 'http_500', 'http_500'])
    expect(plan.scheduleRemaining).toBe(0)
  })

  it('replaces the schedule and the rates independently', () => {
    const plan = new FaultPlan({}, ['reset', 'reset'], 1)
    plan.setSchedule(['html'])
    plan.setRates({ nan: 1 })
    expect(draw(plan, 2)).toEqual(['html', 'nan'])
    plan.setRates({})
    expect(plan.next()).toBeNull()
  })

  it('draws the same sequence for the same seed and rates', () => {
    const rates = { hang: 0.1, http_503: 0.2, reset: 0.1 }
    expect(draw(new FaultPlan(rates, [], 99), 200)).toEqual(draw(new FaultPlan(rates, [], 99), 200))
    expect(draw(new FaultPlan(rates, [], 100), 200)).not.toEqual(draw(new FaultPlan(rates, [], 99), 200))
  })

  it('injects each fault at about its rate', () => {
    const plan = new FaultPlan({ http_503: 0.3, wrong_ids: 0.1 }, [], 12345)
    const counts = new Map<FaultKind | null, number>()
    for (const f of draw(plan, 20_000)) counts.set(f, (counts.get(f) ?? 0) + 1)
    expect(Math.abs((counts.get('http_503') ?? 0) / 20_000 - 0.3)).toBeLessThan(0.02)
    expect(Math.abs((counts.get('wrong_ids') ?? 0) / 20_000 - 0.1)).toBeLessThan(0.02)
    expect([...counts.keys()].sort()).toEqual(['http_503', 'wrong_ids', null].sort())
  })

  it('never injects a fault whose rate is 0, even at rate sum 1', () => {
    const plan = new FaultPlan({ hang: 0, html: 1 }, [], 3)
    expect(new Set(draw(plan, 500))).toEqual(new Set(['html']))
  })
})

describe('faultPhase', () => {
  it('puts every fault kind in exactly one phase', () => {
    const phases = Object.fromEntries(FAULT_KINDS.map((k) => [k, faultPhase(k)]))
    expect(phases).toEqual({
      hang: 'arrival',
      http_500: 'response',
      http_502: 'response',
      http_503: 'response',
      http_504: 'response',
      http_429: 'arrival',
      reset: 'arrival',
      slow_body: 'response',
      invalid_json: 'response',
      html: 'response',
      nan: 'response',
      missing_series: 'response',
      wrong_ids: 'response',
      route_404: 'arrival',
      model_404: 'admission',
    })
  })
})
