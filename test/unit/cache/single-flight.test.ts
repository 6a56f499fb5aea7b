import { describe, expect, it } from 'vitest'
import { SingleFlight } from '../../../src/cache/single-flight.js'

interface Waiter {
  readonly id: string
}

describe('SingleFlight', () => {
  it('makes the first joiner the leader and later ones followers', () => {
    const sf = new SingleFlight<Waiter>()
    expect(sf.join('k', { id: 'a' })).toBe('leader')
    expect(sf.join('k', { id: 'b' })).toBe('follower')
    expect(sf.join('k', { id: 'c' })).toBe('follower')
    expect(sf.join('other', { id: 'd' })).toBe('leader')
    expect(sf.size).toBe(2)
    expect(sf.waiting('k')).toBe(3)
  })

  it('settles with every waiter, leader first, and ends the flight', () => {
    const sf = new SingleFlight<Waiter>()
    const a = { id: 'a' }
    const b = { id: 'b' }
    const c = { id: 'c' }
    sf.join('k', a)
    sf.join('k', b)
    sf.join('k', c)
    expect(sf.settle('k')).toEqual([a, b, c])
    expect(sf.has('k')).toBe(false)
    expect(sf.size).toBe(0)
    expect(sf.join('k', { id: 'next' })).toBe('leader')
  })

  it('settles an unknown key with no waiters', () => {
    const sf = new SingleFlight<Waiter>()
    expect(sf.settle('nope')).toEqual([])
  })

  it('removes a waiter answered separately, so the settle does not answer it twice', () => {
    const sf = new SingleFlight<Waiter>()
    const a = { id: 'a' }
    const b = { id: 'b' }
    const c = { id: 'c' }
    sf.join('k', a)
    sf.join('k', b)
    sf.join('k', c)
    expect(sf.remove('k', b)).toBe(true)
    expect(sf.remove('k', b)).toBe(false)
    expect(sf.remove('other', a)).toBe(false)
    expect(sf.settle('k')).toEqual([a, c])
  })

  it('keeps the flight while its computation runs, even with every waiter removed', () => {
    const sf = new SingleFlight<Waiter>()
    const a = { id: 'a' }
    sf.join('k', a)
    sf.remove('k', a)
    expect(sf.has('k')).toBe(true)
    expect(sf.waiting('k')).toBe(0)
    const late = { id: 'late' }
    expect(sf.join('k', late)).toBe('follower')
    expect(sf.settle('k')).toEqual([late])
  })

  it('holds no entry once every flight is settled', () => {
    const sf = new SingleFlight<Waiter>()
    for (let i = 0; i < 1000; i++) sf.join(`k${i % 10}`, { id: String(i) })
    expect(sf.size).toBe(10)
    let answered = 0
    for (let i = 0; i < 10; i++) answered += sf.settle(`k${i}`).length
    expect(answered).toBe(1000)
    expect(sf.size).toBe(0)
  })
})
