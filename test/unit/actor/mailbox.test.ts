import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Mailbox } from '../../../src/actor/mailbox.js'

describe('Mailbox as a bounded queue', () => {
  it('answers ok until it holds capacity messages, then full', () => {
    const box = new Mailbox<string>(3)
    expect([box.offer('a'), box.offer('b'), box.offer('c'), box.offer('d')]).toEqual(['ok', 'ok', 'ok', 'full'])
    expect(box.size).toBe(3)
    expect(box.capacity).toBe(3)
  })

  it('keeps the exact bound when the capacity is not a power of two', () => {
    const box = new Mailbox<number>(5)
    for (let i = 0; i < 5; i++) expect(box.offer(i)).toBe('ok')
    expect(box.offer(5)).toBe('full')
    box.shift()
    expect(box.offer(5)).toBe('ok')
    expect(box.offer(6)).toBe('full')
  })

  it('hands messages out in FIFO order', () => {
    const box = new Mailbox<number>(4)
    box.offer(1)
    box.offer(2)
    box.offer(3)
    expect([box.shift(), box.shift(), box.shift(), box.shift()]).toEqual([1, 2, 3, undefined])
  })

  it('keeps FIFO order across many wrap-arounds of the ring', () => {
    const box = new Mailbox<number>(3)
    const out: number[] = []
    let next = 0
    for (let round = 0; round < 50; round++) {
      while (box.offer(next) === 'ok') next++
      out.push(box.shift() as number, box.shift() as number)
    }
    while (box.size > 0) out.push(box.shift() as number)
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i))
  })

  it('peeks at the oldest message without removing it', () => {
    const box = new Mailbox<string>(2)
    expect(box.peek()).toBeUndefined()
    box.offer('x')
    box.offer('y')
    expect(box.peek()).toBe('x')
    expect(box.size).toBe(2)
  })

  it('answers closed after close, even with room, and keeps what was queued', () => {
    const box = new Mailbox<string>(4)
    box.offer('queued')
    box.close()
    expect(box.closed).toBe(true)
    expect(box.offer('late')).toBe('closed')
    expect(box.shift()).toBe('queued')
    expect(box.shift()).toBeUndefined()
  })

  it('says closed rather than full when it is both', () => {
    const box = new Mailbox<number>(1)
    box.offer(1)
    box.close()
    expect(box.offer(2)).toBe('closed')
  })

  it('drains every message in order and reports how many', () => {
    const box = new Mailbox<number>(4)
    box.offer(1)
    box.offer(2)
    box.offer(3)
    const seen: number[] = []
    expect(box.drain((m) => seen.push(m))).toBe(3)
    expect(seen).toEqual([1, 2, 3])
    expect(box.size).toBe(0)
    expect(box.drain(() => {})).toBe(0)
  })

  it('retains only the live messages, in order, across the wrap point', () => {
    const box = new Mailbox<number>(4)
    for (let i = 0; i < 3; i++) box.offer(i)
    box.shift()
    box.shift() // head is now at slot 2, so the next offers wrap
    for (let i = 3; i < 6; i++) box.offer(i)
    expect(box.retain((m) => m % 2 === 0)).toBe(2) // drops 3 and 5
    expect(box.size).toBe(2)
    expect(box.offer(6)).toBe('ok')
    expect(box.drain(() => {})).toBe(3)
    for (let i = 0; i < 3; i++) box.offer(i)
    const rest: number[] = []
    box.retain((m) => m !== 1)
    box.drain((m) => rest.push(m))
    expect(rest).toEqual([0, 2])
  })

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Mailbox(0)).toThrow('mailbox capacity must be an integer in 1..16777216, got 0')
    expect(() => new Mailbox(1.5)).toThrow(RangeError)
    expect(() => new Mailbox(Number.NaN)).toThrow(RangeError)
  })

  it('behaves like an array bounded at capacity for any sequence of offers and shifts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 200 }), (capacity, ops) => {
        const box = new Mailbox<number>(capacity)
        const model: number[] = []
        for (const op of ops) {
          if (op === null) {
            expect(box.shift()).toBe(model.shift())
          } else {
            const expected = model.length < capacity ? 'ok' : 'full'
            if (expected === 'ok') model.push(op)
            expect(box.offer(op)).toBe(expected)
          }
          expect(box.size).toBe(model.length)
          expect(box.peek()).toBe(model[0])
        }
      }),
    )
  })
})

describe('Mailbox as an actor', () => {
  it('processes an offered message synchronously, before offer returns', () => {
    const seen: string[] = []
    const box = new Mailbox<string>(4, (m) => seen.push(m))
    expect(box.offer('a')).toBe('ok')
    expect(seen).toEqual(['a'])
    expect(box.size).toBe(0)
    expect(box.processing).toBe(false)
  })

  it('queues a re-entrant offer and processes it after the current message, not inside it', () => {
    const log: string[] = []
    let depth = 0
    let maxDepth = 0
    const box: Mailbox<string> = new Mailbox<string>(4, (m) => {
      depth++
      maxDepth = Math.max(maxDepth, depth)
      log.push(`start ${m}`)
      if (m === 'a') {
        expect(box.offer('b')).toBe('ok')
        expect(box.offer('c')).toBe('ok')
        log.push('offered b, c')
      }
      log.push(`end ${m}`)
      depth--
    })
    box.offer('a')
    expect(log).toEqual(['start a', 'offered b, c', 'end a', 'start b', 'end b', 'start c', 'end c'])
    expect(maxDepth).toBe(1)
  })

  it('counts only waiting messages against capacity while one is being processed', () => {
    const answers: string[] = []
    const box: Mailbox<number> = new Mailbox<number>(1, (m) => {
      if (m === 1) answers.push(box.offer(2), box.offer(3))
    })
    box.offer(1)
    expect(answers).toEqual(['ok', 'full'])
  })

  it('keeps processing queued messages after close', () => {
    const seen: number[] = []
    const box: Mailbox<number> = new Mailbox<number>(4, (m) => {
      seen.push(m)
      if (m === 1) {
        box.offer(2)
        box.close()
        seen.push(box.offer(3) === 'closed' ? -3 : 3)
      }
    })
    box.offer(1)
    expect(seen).toEqual([1, -3, 2])
  })

  it('processes the other messages when one throws, then rethrows the first error', () => {
    const seen: number[] = []
    const box: Mailbox<number> = new Mailbox<number>(4, (m) => {
      seen.push(m)
      if (m === 1) {
        box.offer(2)
        box.offer(3)
        throw new Error('boom 1')
      }
      if (m === 2) throw new Error('boom 2')
    })
    expect(() => box.offer(1)).toThrow('boom 1')
    expect(seen).toEqual([1, 2, 3])
    expect(box.processing).toBe(false)
    expect(box.offer(4)).toBe('ok')
    expect(seen).toEqual([1, 2, 3, 4])
  })
})

describe('an unbounded actor mailbox', () => {
  it('never refuses, grows past its first ring, and keeps order and run-to-completion', () => {
    const seen: number[] = []
    let depth = 0
    let maxDepth = 0
    let refused = 0
    const box: Mailbox<number> = Mailbox.unbounded<number>((n) => {
      depth++
      maxDepth = Math.max(maxDepth, depth)
      seen.push(n)
      // the first message posts 100 000 more from inside the handler
      if (n === 0) for (let i = 1; i <= 100_000; i++) if (box.offer(i) !== 'ok') refused++
      depth--
    })
    expect(box.offer(0)).toBe('ok')
    expect(refused).toBe(0)
    expect(maxDepth).toBe(1)
    expect(seen).toHaveLength(100_001)
    expect(seen.every((n, i) => n === i)).toBe(true)
    expect(box.size).toBe(0)
  })
})
