import { describe, expect, it } from 'vitest'
import { batchKey } from '../../../../../src/io/thread/batch-key.js'
import { JobQueue } from '../../../../../src/io/thread/lane/job-queue.js'
import { PendingJob } from '../../../../../src/io/thread/pending-job.js'
import { makeJob } from '../../../../helpers/upstream-jobs.js'

function pj(id: string, over: Parameters<typeof makeJob>[0] = {}): PendingJob {
  const j = makeJob({ series_id: id, ...over })
  return new PendingJob(j, 0, batchKey(j))
}

const ids = (ps: readonly PendingJob[]): string[] => ps.map((p) => p.job.series_id)

describe('the job queue', () => {
  it('serves high-priority jobs first, FIFO within each class', () => {
    const q = new JobQueue()
    for (const p of [pj('a'), pj('b'), pj('H1', { high: true }), pj('c'), pj('H2', { high: true })]) q.push(p)
    expect(ids(q.take(q.peek()!.key, 10))).toEqual(['H1', 'H2', 'a', 'b', 'c'])
    expect(q.size).toBe(0)
  })

  it('takes only the jobs of one batching key, leaving the others in place', () => {
    const q = new JobQueue()
    for (const p of [pj('a'), pj('x', { horizon: 6 }), pj('b'), pj('y', { horizon: 6 })]) q.push(p)
    expect(ids(q.take(q.peek()!.key, 10))).toEqual(['a', 'b'])
    expect(ids(q.take(q.peek()!.key, 10))).toEqual(['x', 'y'])
  })

  it('skips jobs that left another way, and stays compact under churn', () => {
    const q = new JobQueue()
    const all = Array.from({ length: 5000 }, (_, i) => pj(`m-${i}`))
    for (const p of all) q.push(p)
    for (let i = 0; i < 4990; i++) {
      all[i]!.state = 'settled'
      q.removed(all[i]!)
    }
    expect(q.size).toBe(10)
    expect(ids(q.take(q.peek()!.key, 3))).toEqual(['m-4990', 'm-4991', 'm-4992'])
    const seen: number[] = []
    q.forEach((_, pos) => seen.push(pos))
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6])
  })
})
