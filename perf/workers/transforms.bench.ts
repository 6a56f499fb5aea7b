/**
 * The per-job math on the default shape: the logit transform of 288 points (what the I/O actor
 * does before every upstream call) and the post-processing of a 3×12 band, each beside a naive
 * version written the way the Python service does it (arrays per step, a sort per step).
 * Run: node dist/perf/workers/transforms.bench.js
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { computeJob } from '../../workers/compute.js'
import { postprocessInto } from '../../workers/postprocess.js'
import { logitSeries } from '../../workers/transforms.js'
import { HORIZON, QUANTILES, postprocessJob, series, upstreamLogits } from './fixtures.js'
import { saveResults } from './results.js'

const y = series()
const dst = new Float64Array(y.length)
const logits = upstreamLogits()
const out = new Float64Array(logits.length)
const job = postprocessJob()

/** Python-service style: plain arrays, sigmoid per value, per-step arrays sorted, guards on copies. */
function naivePostprocess(values: Float64Array, quantiles: number[], H: number, minW: number, maxW: number): number[][] {
  const rows = quantiles.map((_, q) => Array.from(values.subarray(q * H, (q + 1) * H)).map((v) => Math.min(1, Math.max(0, 1 / (1 + Math.exp(-v))))))
  for (let h = 0; h < H; h++) {
    const col = rows.map((r) => r[h] as number).sort((a, b) => a - b)
    const lo = col[0] as number
    const hi = col[col.length - 1] as number
    const m = col[col.length >> 1] as number
    const w = hi - lo
    if (w < minW) {
      let a = m - minW / 2
      let b = m + minW / 2
      if (a < 0) [a, b] = [0, minW]
      if (b > 1) [a, b] = [1 - minW, 1]
      col[0] = a
      col[col.length - 1] = b
    } else if (w > maxW) {
      col[0] = m - ((m - lo) * maxW) / w
      col[col.length - 1] = m + ((hi - m) * maxW) / w
    }
    col.forEach((v, q) => ((rows[q] as number[])[h] = v))
  }
  return rows
}

group('logit transform, 288 points', () => {
  summary(() => {
    bench('logitSeries into a preallocated array (shipped)', () => do_not_optimize(logitSeries(y, 1e-6, dst)))
    bench('logitSeries allocating its output', () => do_not_optimize(logitSeries(y, 1e-6)))
    bench('naive: Array.from + map', () =>
      do_not_optimize(Array.from(y).map((p) => Math.log(Math.min(Math.max(p, 1e-6), 1 - 1e-6) / (1 - Math.min(Math.max(p, 1e-6), 1 - 1e-6))))),
    )
  })
})

group('post-process a 3×12 band (inverse, clip, crossing fix, width guards)', () => {
  summary(() => {
    bench('postprocessInto, preallocated output (kernel)', () => do_not_optimize(postprocessInto(logits, QUANTILES, HORIZON, 'logit', 0.02, 0.6, out)))
    bench('computeJob (check + allocate + kernel, shipped)', () => do_not_optimize(computeJob(job)))
    bench('naive: arrays per step + sort', () => do_not_optimize(naivePostprocess(logits, QUANTILES, HORIZON, 0.02, 0.6)))
  })
})

const { benchmarks } = await run()
console.log('saved to', saveResults('transforms', benchmarks))
