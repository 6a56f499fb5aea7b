import { describe, expect, it } from 'vitest'
import { aciStep } from '../../../src/conformal/aci.js'

describe('aciStep', () => {
  it('lowers the working miscoverage by γ(1 − α) after a miss (a wider band next)', () => {
    expect(aciStep(0.2, 0.2, 0.01, true, 0.001, 0.999)).toBeCloseTo(0.192, 12)
  })

  it('raises it by γα after a hit', () => {
    expect(aciStep(0.2, 0.2, 0.01, false, 0.001, 0.999)).toBeCloseTo(0.202, 12)
  })

  it('stays put on average when misses come at rate α', () => {
    let a = 0.2
    for (let i = 0; i < 1000; i++) a = aciStep(a, 0.2, 0.01, i % 5 === 0, 0.001, 0.999)
    expect(a).toBeCloseTo(0.2, 10)
  })

  it('never leaves its bounds', () => {
    expect(aciStep(0.0015, 0.2, 0.01, true, 0.001, 0.999)).toBe(0.001)
    expect(aciStep(0.9985, 0.2, 0.01, false, 0.001, 0.5)).toBe(0.5)
  })
})
