import { describe, expect, it } from 'vitest'
import { Tickets } from '../../../src/actor/tickets.js'

interface Owner {
  readonly name: string
}

describe('Tickets', () => {
  it('issues increasing tickets, starting at 1', () => {
    const t = new Tickets<Owner>()
    expect([t.issue({ name: 'a' }), t.issue({ name: 'b' }), t.issue({ name: 'c' })]).toEqual([1, 2, 3])
    expect(t.size).toBe(3)
  })

  it('hands the owner back once when its result arrives', () => {
    const t = new Tickets<Owner>()
    const a = { name: 'a' }
    const ticket = t.issue(a)
    expect(t.take(ticket)).toBe(a)
    expect(t.has(ticket)).toBe(false)
    expect(t.take(ticket)).toBeUndefined()
  })

  it('drops a result that arrives after its request was cancelled', () => {
    const t = new Tickets<Owner>()
    const ticket = t.issue({ name: 'deadline passed' })
    expect(t.cancel(ticket)).toBe(true)
    expect(t.take(ticket)).toBeUndefined()
    expect(t.stats()).toEqual({ issued: 1, taken: 0, cancelled: 1, dropped: 1, open: 0 })
  })

  it('never reuses a ticket, so a late result cannot reach a newer request', () => {
    const t = new Tickets<Owner>()
    const old = t.issue({ name: 'old' })
    t.cancel(old)
    const fresh = { name: 'fresh' }
    const next = t.issue(fresh)
    expect(next).not.toBe(old)
    expect(t.take(old)).toBeUndefined()
    expect(t.take(next)).toBe(fresh)
  })

  it('reports false when cancelling a ticket that is not open', () => {
    const t = new Tickets<Owner>()
    const ticket = t.issue({ name: 'a' })
    t.take(ticket)
    expect(t.cancel(ticket)).toBe(false)
    expect(t.cancel(999)).toBe(false)
    expect(t.stats()).toEqual({ issued: 1, taken: 1, cancelled: 0, dropped: 0, open: 0 })
  })

  it('counts issued, taken, cancelled, dropped and open tickets', () => {
    const t = new Tickets<Owner>()
    const a = t.issue({ name: 'a' })
    const b = t.issue({ name: 'b' })
    t.issue({ name: 'c' })
    t.take(a)
    t.cancel(b)
    t.take(b)
    t.take(a)
    expect(t.stats()).toEqual({ issued: 3, taken: 1, cancelled: 1, dropped: 2, open: 1 })
  })
})
