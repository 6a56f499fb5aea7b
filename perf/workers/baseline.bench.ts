/**
 * A baseline band from 288 points (3 quantiles × 12 steps) by each method, beside a naive EWMA
 * written the way the Python service does it (a list of logits, then the recursion, then a band of
 * per-quantile lists). Run: node dist/perf/workers/baseline.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { computeJob } from '../../workers/compute.js'
import { normalQuantile } from '../../workers/normal.js'
import { HORIZON, QUANTILES, baselineJob } from './fixtures.js'
import { saveResults } from './results.js'

const ewma = baselineJob(1, 'EWMA')
const kalman = baselineJob(1, 'KALMAN')
const rolling = baselineJob(1, 'ROLLING_QUANTILE')

function naiveEwma(y: Float64Array, alpha: number, eps: number): number[][] {
  const x = Array.from(y).map((p) => {
    const c = Math.min(Math.max(p, eps), 1 - eps)
    return Math.log(c / (1 - c))
  })
  let level = x[0] as number
  let variance = 0
  for (const v of x.slice(1)) {
    const e = v - level
    level = alpha * v + (1 - alpha) * level
    variance = alpha * e * e + (1 - alpha) * variance
  }
  const sd = Math.sqrt(Math.max(variance, eps))
  return QUANTILES.map((q) =>
    Array.from({ length: HORIZON }, (_, h) => Math.min(1, Math.max(0, 1 / (1 + Math.exp(-(level + normalQuantile(q) * sd * Math.sqrt(h + 1))))))),
  )
}

group('baseline band from 288 points, 3×12', () => {
  summary(() => {
    bench('EWMA (computeJob, shipped)', () => do_not_optimize(computeJob(ewma))).baseline(true)
    bench('KALMAN (computeJob)', () => do_not_optimize(computeJob(kalman)))
    bench('ROLLING_QUANTILE (computeJob)', () => do_not_optimize(computeJob(rolling)))
    bench('naive EWMA: arrays, no guards', () => do_not_optimize(naiveEwma(ewma.y, 0.2, 1e-6)))
  })
})

const { benchmarks } = await run()
console.log('saved to', saveResults('baseline', benchmarks))
