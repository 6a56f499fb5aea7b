import { describe, expect, it } from 'vitest'
import { simulate, TARGET } from './drift-sim.js'

/**
 * Issue 11's must-show: 20 000 outcomes whose noise scale doubles half-way. A 500-outcome
 * window of a perfectly calibrated band still wanders ±1.8 % (binomial), so "stays within
 * ±3 %" is judged as a share of outcomes, not at every one: a band that knows the true noise
 * is within ±3 % at 86–98 % of outcomes on these streams (seeds 1–8, measured while tuning γ).
 */
const TOLERANCE = 0.03

function figures(seed: number) {
  const online = simulate(seed, true)
  const fixed = simulate(seed, false)
  const { coverage, shiftAt } = online
  const end = coverage.length
  // The dip: its lowest point within 2 000 outcomes of the shift, then the first outcome back.
  let low = shiftAt
  for (let t = shiftAt; t < shiftAt + 2000; t++) if ((coverage[t] as number) < (coverage[low] as number)) low = t
  let back = low
  while (back < end && Math.abs((coverage[back] as number) - TARGET) > TOLERANCE) back++
  let inside = 0
  let mean = 0
  for (let t = shiftAt + 2000; t < end; t++) {
    if (Math.abs((coverage[t] as number) - TARGET) <= TOLERANCE) inside++
    mean += coverage[t] as number
  }
  // The static file, once its window holds only post-shift outcomes.
  let staticClosest = Infinity
  for (let t = shiftAt + 500; t < end; t++) staticClosest = Math.min(staticClosest, Math.abs((fixed.coverage[t] as number) - TARGET))
  return {
    before: coverage[shiftAt - 1] as number,
    dip: coverage[low] as number,
    dipAt: low - shiftAt,
    backAt: back - shiftAt,
    insideShare: inside / (end - shiftAt - 2000),
    meanAfter: mean / (end - shiftAt - 2000),
    staticEnd: fixed.coverage[end - 1] as number,
    staticClosest,
    widthBefore: online.width[shiftAt - 1] as number,
    widthEnd: online.width[end - 1] as number,
    staticWidth: fixed.width[end - 1] as number,
  }
}

describe('online conformal updating under a noise doubling (20 000 outcomes, target 80 %, window 500)', () => {
  it.each([1, 2, 3])('recovers within 2 000 outcomes and stays near the target, while the static file stays more than 10 % off (seed %i)', (seed) => {
    const f = figures(seed)
    const pct = (v: number): string => `${(100 * v).toFixed(1)} %`
    console.log(
      `seed ${seed}: online ${pct(f.before)} before the shift, dips to ${pct(f.dip)} at +${f.dipAt}, back within ±3 % at +${f.backAt}, ` +
        `within ±3 % at ${pct(f.insideShare)} of outcomes from +2000 (mean ${pct(f.meanAfter)}), width ${f.widthBefore.toFixed(3)} → ${f.widthEnd.toFixed(3)}; ` +
        `static ends at ${pct(f.staticEnd)} (never closer than ${pct(f.staticClosest)} from +500), width ${f.staticWidth.toFixed(3)}`,
    )
    expect(f.dip).toBeLessThan(TARGET - TOLERANCE)
    expect(f.backAt).toBeLessThanOrEqual(2000)
    expect(f.insideShare).toBeGreaterThanOrEqual(0.9)
    expect(Math.abs(f.meanAfter - TARGET)).toBeLessThanOrEqual(0.01)
    expect(f.staticClosest).toBeGreaterThan(0.1)
  })

  it('matched every served band through ServedBands, none expired or evicted', () => {
    const { bands } = simulate(4, true)
    expect([bands.recorded, bands.matched, bands.unmatched, bands.expired, bands.evicted, bands.size]).toEqual([20_000, 20_000, 0, 0, 0, 0])
  })
})
