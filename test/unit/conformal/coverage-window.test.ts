import { describe, expect, it } from 'vitest'
import { CoverageWindow } from '../../../src/conformal/coverage-window.js'

describe('CoverageWindow', () => {
  it('reports the share of outcomes inside their served band and the mean width', () => {
    const w = new CoverageWindow({ window: 10 })
    w.add('s', 0.4, 0.6, 0.5)
    w.add('s', 0.4, 0.6, 0.7)
    w.add('s', 0.3, 0.5, 0.5) // the ends count as inside
    w.add('s', 0.2, 0.6, 0.1)
    expect([w.coverage('s'), w.meanWidth('s'), w.count('s')]).toEqual([0.5, expect.closeTo(0.25, 12), 4])
  })

  it('forgets outcomes older than the window', () => {
    const w = new CoverageWindow({ window: 3 })
    w.add(null, 0, 0.1, 0.9)
    w.add(null, 0, 0.1, 0.9)
    for (let i = 0; i < 3; i++) w.add(null, 0.4, 0.6, 0.5)
    expect([w.coverage(null), w.meanWidth(null), w.count(null)]).toEqual([1, expect.closeTo(0.2, 12), 3])
  })

  it('keeps the width sum exact over many wraps (no float drift)', () => {
    const w = new CoverageWindow({ window: 7 })
    for (let i = 0; i < 100_003; i++) w.add(null, 0, i % 3 === 0 ? 1e-9 : 0.3 + (i % 11) * 0.01, 0)
    let sum = 0
    for (let i = 100_003 - 7; i < 100_003; i++) sum += i % 3 === 0 ? 1e-9 : 0.3 + (i % 11) * 0.01
    expect(w.meanWidth(null)).toBeCloseTo(sum / 7, 14)
  })

  it('keeps segments apart and reports NaN for one without outcomes', () => {
    const w = new CoverageWindow({ window: 5 })
    w.add('a', 0, 1, 0.5)
    w.add('b', 0, 0.1, 0.5)
    expect([w.coverage('a'), w.coverage('b'), w.coverage('c'), w.coverage(null)]).toEqual([1, 0, Number.NaN, Number.NaN])
  })

  it('counts keys beyond maxSegments under the default, so the label set stays bounded', () => {
    const w = new CoverageWindow({ window: 5, maxSegments: 1 })
    w.add('a', 0, 1, 0.5)
    w.add('b', 0, 1, 0.5)
    w.add('c', 0, 0.1, 0.5)
    expect(w.readings()).toEqual([
      { segment: null, coverage: 0.5, meanWidth: expect.closeTo(0.55, 12), count: 2 },
      { segment: 'a', coverage: 1, meanWidth: 1, count: 1 },
    ])
    expect(w.overflowed).toBe(2)
  })
})
