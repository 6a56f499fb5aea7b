import { describe, expect, it } from 'vitest'
import { RecentIds } from '../../../src/supervisor/recent-ids.js'

describe('RecentIds', () => {
  it('says whether an id is new among the last N distinct ids', () => {
    const ids = new RecentIds(3)
    expect([1, 2, 1, 3, 2].map((id) => ids.add(id))).toEqual([true, true, false, true, false])
  })

  it('forgets the oldest id first once full', () => {
    const ids = new RecentIds(2)
    ids.add(1)
    ids.add(2)
    ids.add(3)
    expect(ids.add(2)).toBe(false)
    expect(ids.add(1)).toBe(true)
  })
})
