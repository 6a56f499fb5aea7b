import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ManualClock } from '../../../src/clock/manual-clock.js'
import { TimerHeap, type Timed } from '../../../src/supervisor/timer-heap.js'

class Item implements Timed {
  dueAt = 0
  heapIndex = -1
  constructor(readonly name: string) {}
}

describe('TimerHeap', () => {
  it('fires items in due order with a single clock timer', () => {
    const clock = new ManualClock(0)
    const fired: string[] = []
    const heap = new TimerHeap<Item>(clock, (i) => fired.push(`${i.name}@${clock.now()}`))
    heap.schedule(new Item('c'), 30)
    heap.schedule(new Item('a'), 10)
    heap.schedule(new Item('b'), 20)
    expect(clock.pending).toBe(1)
    clock.advance(25)
    expect(fired).toEqual(['a@10', 'b@20'])
    clock.advance(10)
    expect(fired).toEqual(['a@10', 'b@20', 'c@30'])
    expect(heap.size).toBe(0)
  })

  it('never fires a cancelled item and reschedules in place', () => {
    const clock = new ManualClock(0)
    const fired: string[] = []
    const heap = new TimerHeap<Item>(clock, (i) => fired.push(i.name))
    const a = new Item('a')
    const b = new Item('b')
    heap.schedule(a, 10)
    heap.schedule(b, 20)
    heap.cancel(a)
    heap.schedule(b, 5)
    clock.advance(100)
    expect(fired).toEqual(['b'])
    expect(a.heapIndex).toBe(-1)
  })

  it('lets a firing item schedule another one that is already due', () => {
    const clock = new ManualClock(0)
    const fired: string[] = []
    const second = new Item('second')
    const heap: TimerHeap<Item> = new TimerHeap<Item>(clock, (i) => {
      fired.push(i.name)
      if (i.name === 'first') heap.schedule(second, clock.now())
    })
    heap.schedule(new Item('first'), 10)
    clock.advance(10)
    expect(fired).toEqual(['first', 'second'])
  })

  it('fires any schedule/cancel sequence in non-decreasing time order, each live item once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 200 }),
        (ops) => {
          const clock = new ManualClock(0)
          const items = Array.from({ length: 20 }, (_, i) => new Item(String(i)))
          const fired: Array<[string, number]> = []
          const heap = new TimerHeap<Item>(clock, (i) => fired.push([i.name, clock.now()]))
          const expected = new Map<string, number>()
          for (const [idx, at, cancel] of ops) {
            const item = items[idx] as Item
            if (cancel) {
              heap.cancel(item)
              expected.delete(item.name)
            } else {
              heap.schedule(item, at)
              expected.set(item.name, at)
            }
          }
          clock.advance(2000)
          expect(fired.length).toBe(expected.size)
          for (let k = 1; k < fired.length; k++) expect((fired[k] as [string, number])[1]).toBeGreaterThanOrEqual((fired[k - 1] as [string, number])[1])
          for (const [name, at] of fired) expect(expected.get(name)).toBe(at)
        },
      ),
      { numRuns: 300 },
    )
  })
})
