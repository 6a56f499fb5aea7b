/**
 * The math pool's round trip for one event-loop turn of N jobs (half post-processing of a 3×12
 * band, half EWMA baselines of 288 points): computed inline on the main thread vs packed,
 * transferred to one Piscina thread and back. A round = submit N jobs, await N sink calls.
 * After mitata's wall times, the main thread's busy time per round (event-loop utilisation) —
 * what the inline path takes from everything else the main thread does.
 * The crossover of the two picks `perf.math_inline_threshold`.
 * Run: node dist/perf/workers/pool.bench.js
 */
import { performance } from 'node:perf_hooks'
import { bench, group, run, summary } from 'mitata'
import { MathPool } from '../../src/compute/math-pool.js'
import type { MathJob } from '../../workers/protocol.js'
import { baselineJob, postprocessJob } from './fixtures.js'
import { saveResults } from './results.js'

const SIZES = [1, 4, 8, 12, 16, 32, 64, 200]
const jobs: MathJob[] = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? postprocessJob(i) : baselineJob(i)))

/** Counts answers and resolves the round once all have arrived. */
class Round {
  want = 0
  got = 0
  resolve: () => void = () => {}
  readonly sink = (): void => {
    if (++this.got === this.want) this.resolve()
  }
  start(pool: MathPool, n: number): Promise<void> {
    this.want = n
    this.got = 0
    const done = new Promise<void>((resolve) => (this.resolve = resolve))
    for (let i = 0; i < n; i++) {
      const job = jobs[i] as MathJob
      if (job.kind === 'postprocess') pool.submitPostprocess(i, job)
      else pool.submitBaseline(i, job)
    }
    return done
  }
}

const inlineRound = new Round()
const threadRound = new Round()
const inline = await MathPool.start({ threads: 1, inlineThreshold: Infinity, sink: inlineRound.sink })
const thread = await MathPool.start({ threads: 1, inlineThreshold: 0, sink: threadRound.sink })

for (const n of SIZES) {
  group(`one turn of ${n} job${n === 1 ? '' : 's'}`, () => {
    summary(() => {
      bench(`inline ×${n}`, () => inlineRound.start(inline, n)).baseline(true)
      bench(`thread ×${n} (one batch)`, () => threadRound.start(thread, n))
    })
  })
}

const { benchmarks } = await run()

/** Main-thread busy and wall µs per round over `rounds` rounds (busy from event-loop utilisation). */
async function measure(pool: MathPool, round: Round, n: number, rounds: number): Promise<{ busy: number; wall: number }> {
  const elu0 = performance.eventLoopUtilization()
  const t0 = performance.now()
  for (let i = 0; i < rounds; i++) await round.start(pool, n)
  const wall = performance.now() - t0
  const elu = performance.eventLoopUtilization(elu0)
  return { busy: (elu.active * 1000) / rounds, wall: (wall * 1000) / rounds }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1] as number
}

/** Seven interleaved repetitions per size (inline, thread, inline, ...), medians reported: the machine is shared and noisy. */
const REPS = 7
const busy: Record<string, { inline_busy_us: number; thread_busy_us: number; inline_wall_us: number; thread_wall_us: number }> = {}
console.log('\nmain thread per round (µs), medians of 7 interleaved runs; busy = event-loop utilisation')
console.log('jobs | inline busy | thread busy | inline wall | thread wall')
for (const n of SIZES) {
  const rounds = Math.max(100, Math.round(10_000 / n))
  for (let i = 0; i < 20; i++) {
    await inlineRound.start(inline, n)
    await threadRound.start(thread, n)
  }
  const a: { busy: number; wall: number }[] = []
  const b: { busy: number; wall: number }[] = []
  for (let r = 0; r < REPS; r++) {
    a.push(await measure(inline, inlineRound, n, rounds))
    b.push(await measure(thread, threadRound, n, rounds))
  }
  const row = {
    inline_busy_us: +median(a.map((x) => x.busy)).toFixed(1),
    thread_busy_us: +median(b.map((x) => x.busy)).toFixed(1),
    inline_wall_us: +median(a.map((x) => x.wall)).toFixed(1),
    thread_wall_us: +median(b.map((x) => x.wall)).toFixed(1),
  }
  busy[n] = row
  const cells = [row.inline_busy_us, row.thread_busy_us, row.inline_wall_us, row.thread_wall_us].map((v) => v.toFixed(1).padStart(11))
  console.log(`${String(n).padStart(4)} | ${cells.join(' | ')}`)
}

await inline.close()
await thread.close()
console.log('saved to', saveResults('pool', benchmarks, { main_thread_per_round: busy }))
