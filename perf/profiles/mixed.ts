/**
 * PRD2 load profile "mixed" (blueprint §5): 200 requests, 100 unique keys, upstream 80 ms.
 * Run: make bench-mixed   (node dist/perf/profiles/mixed.js [--runs N] [--concurrency C])
 */
import { runIfEntry } from '../../src/entry.js'
import { allPass } from '../load/criteria.js'
import { intFlag } from '../load/flags.js'
import { saveResult } from '../load/report.js'
import { describeNormalLoad, normalLoadJson, runNormalLoad, type NormalLoadOptions, type NormalLoadResult } from './normal-load.js'

export const MIXED: NormalLoadOptions = { name: 'mixed', requests: 200, uniqueKeys: 100, upstreamMs: 80, concurrency: 8, runs: 3 }

export function runMixed(runs = MIXED.runs, concurrency = MIXED.concurrency): Promise<NormalLoadResult> {
  return runNormalLoad({ ...MIXED, runs, concurrency })
}

runIfEntry(import.meta.url, 'mixed', async (argv) => {
  const res = await runMixed(intFlag(argv, 'runs', MIXED.runs), intFlag(argv, 'concurrency', MIXED.concurrency))
  console.log(describeNormalLoad('mixed', res))
  console.log(`saved to ${saveResult('mixed', normalLoadJson(res))}`)
  return allPass(res.criteria, 'gate') ? 0 : 1
})
