import { describe, expect, it } from 'vitest'
import { emergencyBand } from '../../../src/supervisor/emergency-band.js'
import { harness, marketBody } from '../../helpers/supervisor-harness.js'

describe('emergencyBand', () => {
  const h = harness()

  it('centres the minimum-width band on the last point', () => {
    const req = h.request(marketBody('m', 3, { y: [0.2, 0.3, 0.4], horizon_steps: 2 }))
    const band = emergencyBand(req, 0.02, 0.6)
    expect([...band]).toEqual([0.39, 0.39, 0.4, 0.4, 0.41000000000000003, 0.41000000000000003])
  })

  it('keeps the band inside [0, 1] at the exact minimum width near 0, never centred on 0', () => {
    const req = h.request(marketBody('m', 2, { y: [0.5, 0.002], horizon_steps: 1 }))
    expect([...emergencyBand(req, 0.02, 0.6)]).toEqual([0, 0.002, 0.02])
  })

  it('gives a single quantile the last point itself', () => {
    const req = h.request(marketBody('m', 2, { y: [0.5, 0.7], horizon_steps: 1, quantiles: [0.5] }))
    expect([...emergencyBand(req, 0.02, 0.6)]).toEqual([0.7])
  })
})
