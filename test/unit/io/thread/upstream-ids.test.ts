import { describe, expect, it } from 'vitest'
import { freshRequestId, MEMBER_IDS_MAX_BYTES, memberIdsHeader, upstreamRequestId } from '../../../../src/io/thread/upstream-ids.js'
import type { UpstreamJob } from '../../../../src/io/types.js'
import { makeJob } from '../../../helpers/upstream-jobs.js'

const FRESH = /^tsfm-[0-9a-f]{12}-[0-9a-z]+$/

function jobs(...ids: (string | null)[]): UpstreamJob[] {
  return ids.map((request_id) => makeJob({ request_id }))
}

function members(...ids: (string | null)[]): { job: UpstreamJob }[] {
  return jobs(...ids).map((job) => ({ job }))
}

describe('upstream request ids', () => {
  it('fresh ids are unique, visible ASCII and short', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => freshRequestId()))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(id).toMatch(FRESH)
  })

  it("a request of one series carries its caller's id, any other a fresh one", () => {
    expect(upstreamRequestId(members('abc-1'))).toBe('abc-1')
    expect(upstreamRequestId(members(null))).toMatch(FRESH)
    expect(upstreamRequestId(members('a', 'b'))).toMatch(FRESH)
    expect(upstreamRequestId(members('a', null))).toMatch(FRESH)
  })

  it('lists the ids of a multiplexed request once each, in order; none for a lone series or no ids', () => {
    expect(memberIdsHeader(jobs('a', null, 'b', 'a', 'c'), 'tsfm-x-1')).toBe('a,b,c')
    expect(memberIdsHeader(jobs('only'), 'only')).toBeNull()
    expect(memberIdsHeader(jobs(null, null), 'tsfm-x-1')).toBeNull()
    expect(memberIdsHeader(jobs(null), 'tsfm-x-1')).toBeNull()
    // A batch left with one series (the others out of time) keeps its id and names the caller.
    expect(memberIdsHeader(jobs('left'), 'tsfm-x-1')).toBe('left')
  })

  it(`caps the list at ${MEMBER_IDS_MAX_BYTES} bytes and counts the rest`, () => {
    const ids = Array.from({ length: 128 }, (_, i) => `${String(i).padStart(3, '0')}-${'x'.repeat(124)}`)
    const value = memberIdsHeader(jobs(...ids), 'tsfm-x-1') as string
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(MEMBER_IDS_MAX_BYTES)
    const items = value.split(',')
    const more = items.pop() as string
    expect(more).toMatch(/^\+\d+$/)
    // Every id is either listed (the first ones, in order) or counted.
    expect(items).toEqual(ids.slice(0, items.length))
    expect(items.length + Number(more.slice(1))).toBe(128)
    expect(items.length).toBeGreaterThan(25)
  })

  it('fills the list exactly up to the cap when everything fits', () => {
    // 31 ids of 128 characters and their commas: 31 * 129 - 1 = 3998 bytes, under the cap.
    const ids = Array.from({ length: 31 }, (_, i) => `${String(i).padStart(2, '0')}${'y'.repeat(126)}`)
    expect(memberIdsHeader(jobs(...ids), 'tsfm-x-1')).toBe(ids.join(','))
  })
})
