import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../../src/clock/manual-clock.js'
import { InflightTickets } from '../../../../src/io/host/inflight.js'

function setup() {
  const clock = new ManualClock()
  const expired: number[] = []
  const table = new InflightTickets(clock, (ticket) => expired.push(ticket))
  return { clock, table, expired, T0: clock.now() }
}

describe('InflightTickets', () => {
  it('expires a ticket whose deadline passes without an answer', () => {
    const { clock, table, expired, T0 } = setup()
    table.add(1, T0 + 100, T0)
    clock.advance(99)
    expect(expired).toEqual([])
    clock.advance(1)
    expect(expired).toEqual([1])
    expect(table.size).toBe(0)
  })

  it('gives the latest deadline it holds, and −Infinity when it holds none', () => {
    const { table, T0 } = setup()
    expect(table.latestDeadline()).toBe(Number.NEGATIVE_INFINITY)
    table.add(1, T0 + 300, T0)
    table.add(2, T0 + 900, T0)
    table.add(3, T0 + 100, T0)
    expect(table.latestDeadline()).toBe(T0 + 900)
    table.take(2)
    expect(table.latestDeadline()).toBe(T0 + 300)
  })

  it('does not expire an answered ticket', () => {
    const { clock, table, expired, T0 } = setup()
    table.add(1, T0 + 100, T0)
    table.add(2, T0 + 200, T0)
    expect(table.take(1)?.deadline).toBe(T0 + 100)
    clock.advance(300)
    expect(expired).toEqual([2])
  })

  it('expires in deadline order whatever the submission order', () => {
    const { clock, table, expired, T0 } = setup()
    const deadlines = [500, 100, 400, 300, 200, 600, 150]
    deadlines.forEach((d, i) => table.add(i, T0 + d, T0))
    clock.advance(1000)
    expect(expired).toEqual([1, 6, 4, 3, 2, 0, 5])
  })

  it('keeps a single timer, however many tickets are held', () => {
    const { clock, table, T0 } = setup()
    for (let i = 0; i < 1000; i++) table.add(i, T0 + 1600 + i, T0)
    expect(clock.pending).toBe(1)
    table.add(5000, T0 + 10, T0)
    expect(clock.pending).toBe(1)
  })

  it('cancels its timer when the last ticket is answered', () => {
    const { clock, table, T0 } = setup()
    table.add(1, T0 + 100, T0)
    table.take(1)
    expect(clock.pending).toBe(0)
  })

  it('returns undefined for a ticket it does not hold (a late answer is dropped)', () => {
    const { clock, table, expired, T0 } = setup()
    table.add(1, T0 + 100, T0)
    clock.advance(100)
    expect(expired).toEqual([1])
    expect(table.take(1)).toBeUndefined()
  })

  it('hands back everything on takeAll and expires nothing afterwards', () => {
    const { clock, table, expired, T0 } = setup()
    table.add(1, T0 + 100, T0 + 1)
    table.add(2, T0 + 50, T0 + 2)
    expect([...table.takeAll().entries()].map(([t, h]) => [t, h.submittedAt])).toEqual([
      [1, T0 + 1],
      [2, T0 + 2],
    ])
    clock.advance(200)
    expect(expired).toEqual([])
    expect(clock.pending).toBe(0)
  })
})
