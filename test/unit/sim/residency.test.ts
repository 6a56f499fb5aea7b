import { describe, expect, it } from 'vitest'
import { UNLOADED, acquire, release, type Residency } from '../../../src/sim/residency.js'

const params = { coldStartMs: 100, keepAliveMs: 1000 }

describe('a model residency', () => {
  it('loads an unloaded model: the first request waits the cold start and counts as cold', () => {
    expect(acquire(UNLOADED, 50, params)).toEqual({ next: { kind: 'held', readyAt: 150 }, loadMs: 100, cold: true })
  })

  it('becomes idle when its last holder lets it go, not before', () => {
    const held: Residency = { kind: 'held', readyAt: 150 }
    expect(release(held, 300, 1)).toBe(held)
    expect(release(held, 300, 0)).toEqual({ kind: 'idle', since: 300 })
  })

  it('serves a request on a model idle for less than the keep-alive without a load', () => {
    expect(acquire({ kind: 'idle', since: 300 }, 1299, params)).toEqual({ next: { kind: 'held', readyAt: 1299 }, loadMs: 0, cold: false })
  })

  it('loads again a model idle for the keep-alive or longer', () => {
    expect(acquire({ kind: 'idle', since: 300 }, 1300, params)).toMatchObject({ loadMs: 100, cold: true })
    expect(acquire({ kind: 'idle', since: 300 }, 99_999, params)).toMatchObject({ loadMs: 100, cold: true })
  })

  it('reloads after every request with a keep-alive of 0, as ollama does with keep_alive 0', () => {
    expect(acquire({ kind: 'idle', since: 300 }, 300, { coldStartMs: 100, keepAliveMs: 0 })).toMatchObject({ loadMs: 100, cold: true })
  })

  it('makes a request that joins a load in progress wait only for the rest of it, without loading twice', () => {
    const held: Residency = { kind: 'held', readyAt: 150 }
    expect(acquire(held, 120, params)).toEqual({ next: held, loadMs: 30, cold: false })
    expect(acquire(held, 200, params)).toEqual({ next: held, loadMs: 0, cold: false })
  })

  it('counts no cold start while cold starts are off, but still holds the model as loaded', () => {
    const taken = acquire(UNLOADED, 50, { coldStartMs: 0, keepAliveMs: 1000 })
    expect(taken).toEqual({ next: { kind: 'held', readyAt: 50 }, loadMs: 0, cold: false })
    // Turning cold starts on later charges the next load, not the next request.
    expect(acquire(release(taken.next, 60, 0), 70, params)).toMatchObject({ loadMs: 0, cold: false })
  })
})
