import { describe, expect, it } from 'vitest'
import { Lanes, OVERFLOW } from '../../../../../src/io/thread/lane/lanes.js'
import type { Lane } from '../../../../../src/io/thread/lane/lane.js'

/** Stand-in lanes: only `name` and `idle` matter to the table. */
function table(max: number) {
  const busy = new Set<string>()
  const made: string[] = []
  const lanes = new Lanes(max, (name) => {
    made.push(name)
    return { name, get idle() { return !busy.has(name) } } as unknown as Lane
  })
  return { lanes, busy, made }
}

describe('the lanes table', () => {
  it('makes one lane per model and reuses it', () => {
    const t = table(4)
    expect(t.lanes.of('a')).toBe(t.lanes.of('a'))
    t.lanes.of('b')
    expect(t.made).toEqual(['a', 'b'])
  })

  it('drops the least recently used idle lane past its bound', () => {
    const t = table(2)
    t.lanes.of('a')
    t.lanes.of('b')
    t.lanes.of('a') // a is now the most recently used
    t.lanes.of('c')
    expect([...t.lanes.values()].map((l) => l.name)).toEqual(['a', 'c'])
  })

  it('sends further models to one overflow lane while every lane is busy', () => {
    const t = table(2)
    t.lanes.of('a')
    t.lanes.of('b')
    t.busy.add('a').add('b')
    expect(t.lanes.of('c').name).toBe(OVERFLOW)
    expect(t.lanes.of('d')).toBe(t.lanes.of('c'))
  })
})
