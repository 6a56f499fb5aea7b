import { describe, expect, it } from 'vitest'
import { TsfmError } from '../../../src/errors.js'
import { SIM_DEFAULTS, resolveSimConfig } from '../../../src/sim/config.js'

describe('resolveSimConfig', () => {
  it('fills the defaults measured on tollama 0.1.0', () => {
    const c = resolveSimConfig()
    expect(c).toEqual(SIM_DEFAULTS)
    expect([c.latencyFixedMs, c.latencyPerSeriesMs, c.spread, c.retryAfterS, c.slowBodyMs, c.hangMs]).toEqual([42, 0.9, 0.5, 1, 2000, null])
    expect([c.serial, c.coldStartMs, c.keepAliveMs]).toEqual([false, 0, 300_000])
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('maps localhost to 127.0.0.1', () => {
    expect(resolveSimConfig({ host: 'localhost' }).host).toBe('127.0.0.1')
  })

  it('keeps an explicit null model list (any name accepted) and copies a given list', () => {
    const models = ['mock']
    const c = resolveSimConfig({ models })
    models.push('x')
    expect(c.models).toEqual(['mock'])
    expect(resolveSimConfig({ models: null }).models).toBeNull()
  })

  it.each([
    [{ host: '10.0.0.1' }, 'sim.host must be "127.0.0.1" or "localhost" (the simulator only listens on loopback), got "10.0.0.1"'],
    [{ port: 70000 }, 'sim.port must be an integer in 0..65535, got 70000'],
    [{ latencyFixedMs: -1 }, 'sim.latencyFixedMs must be a finite number >= 0, got -1'],
    [{ latencyPerSeriesMs: Number.NaN }, 'sim.latencyPerSeriesMs must be a finite number >= 0, got NaN'],
    [{ serial: 'yes' }, 'sim.serial must be a boolean, got "yes"'],
    [{ models: ['mock', ''] }, 'sim.models must be null or an array of non-empty strings, got ["mock",""]'],
    [{ faults: { boom: 0.1 } }, 'sim.faults.boom is not a fault kind'],
    [{ faults: { hang: 1.5 } }, 'sim.faults.hang must be a probability in [0, 1], got 1.5'],
    [{ faults: { hang: 0.5, reset: 0.6 } }, 'sim.faults must sum to at most 1, got 1.1'],
    [{ schedule: ['ok', 'boom'] }, 'sim.schedule[1] must be "ok" or a fault kind'],
    [{ retryAfterS: 0.5 }, 'sim.retryAfterS must be an integer >= 0, got 0.5'],
    [{ seed: 1.5 }, 'sim.seed must be an integer, got 1.5'],
    [{ hangMs: -5 }, 'sim.hangMs must be a finite number >= 0, got -5'],
    [{ coldStartMs: -1 }, 'sim.coldStartMs must be a finite number >= 0, got -1'],
    [{ coldStartMs: '100' }, 'sim.coldStartMs must be a finite number >= 0, got "100"'],
    [{ keepAliveMs: Number.POSITIVE_INFINITY }, 'sim.keepAliveMs must be a finite number >= 0, got Infinity'],
  ])('refuses %j', (options, message) => {
    let error: unknown
    try {
      resolveSimConfig(options as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TsfmError)
    expect((error as TsfmError).code).toBe('TSFM_CONFIG_INVALID')
    expect((error as TsfmError).message).toContain(message)
  })
})
