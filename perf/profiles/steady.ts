/**
 * PRD2 load profile "steady" (blueprint §5): 200 requests, 20 unique keys, upstream 15 ms.
 * Run: make bench-steady   (node dist/perf/profiles/steady.js [--runs N] [--concurrency C])
 */
import { runIfEntry } from '../../src/entry.js'
import { allPass } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { saveResult } from '../load/report.js'
import { describeNormalLoad, normalLoadJson, runNormalLoad, type NormalLoadOptions, type NormalLoadResult } from './normal-load.js'

export const STEADY: NormalLoadOptions = { name: 'steady', requests: 200, uniqueKeys: 20, upstreamMs: 15, concurrency: 8, runs: 3 }

export function runSteady(runs = STEADY.runs, concurrency = STEADY.concurrency): Promise<NormalLoadResult> {
  return runNormalLoad({ ...STEADY, runs, concurrency })
}

runIfEntry(import.meta.url, 'steady', async (argv) => {
  const res = await runSteady(intFlag(argv, 'runs', STEADY.runs), intFlag(argv, 'concurrency', STEADY.concurrency))
  console.log(describeNormalLoad('steady', res))
  console.log(`saved to ${saveResult('steady', normalLoadJson(res))}`)
  return allPass(res.criteria, 'gate') ? 0 : 1
})
