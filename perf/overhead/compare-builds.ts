/**
 * Two builds' daemons side by side: the same single-series forecasts sent straight to one
 * simulator, through daemon A (another checkout, e.g. a worktree of the previous commit) and
 * through daemon B (this checkout), one request at a time, the three paths taking turns. Reports
 * each daemon's added p50 over direct per round and the median ratio B/A.
 *
 * Why: on this 2-core VM the added p50 of one build drifts between runs minutes apart by more
 * than most changes move it (perf/gate.ts); two daemons sharing one interleaved run see the same
 * machine, so their ratio is what a change is judged by (A against itself gave 0.99).
 *
 * Run: node dist/perf/overhead/compare-builds.js --a /path/to/other/checkout [--rounds 5] [--pairs 200]
 *      (the other checkout built: `git worktree add /tmp/a HEAD~1 && cd /tmp/a && ln -s
 *      "$PWD/node_modules" . && npx tsc -p tsconfig.json`, node_modules linked from this one)
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runIfEntry } from '../../src/entry.js'
import { packageRoot } from '../../src/paths.js'
import { benchConfig } from '../load/bench-config.js'
import { intFlag } from '../load/flags.js'
import { median } from '../load/percentiles.js'
import { ProcessGroup } from '../load/processes.js'
import { daemonPath, directPath, send, type Path } from './direct-vs-daemon.js'

const WARM = 1500

/** One request on `lane`; its latency, or an error if the answer is not what the lane must give. */
async function timed(lane: Path, i: number): Promise<number> {
  const r = await send(lane, i)
  if (r.problem !== null) throw new Error(`${lane.name}: ${r.problem}`)
  return r.ms
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--a')
  const other = i < 0 ? undefined : argv[i + 1]
  if (other === undefined) {
    console.error('usage: compare-builds --a <other checkout with dist/ built> [--rounds N] [--pairs N]')
    return 2
  }
  const rootA = resolve(other)
  const processesA = join(rootA, 'dist', 'perf', 'load', 'processes.js')
  if (!existsSync(processesA)) {
    console.error(`${processesA} does not exist: build the other checkout first`)
    return 2
  }
  const rounds = intFlag(argv, 'rounds', 5)
  const pairs = intFlag(argv, 'pairs', 200)
  // The other build's own spawner: its daemon runs its own dist/.
  const groupA = new (((await import(pathToFileURL(processesA).href)) as { ProcessGroup: typeof ProcessGroup }).ProcessGroup)()
  const groupB = new ProcessGroup()
  const lanes: Path[] = []
  try {
    const sim = await groupB.simulator(['--latency-fixed', '0', '--latency-per-series', '0'])
    const a = await groupA.daemon(benchConfig(sim.url), 'daemon A')
    const b = await groupB.daemon(benchConfig(sim.url), 'daemon B')
    lanes.push(directPath(sim.url, 2), daemonPath(`A ${rootA}`, a.url, 2), daemonPath(`B ${packageRoot()}`, b.url, 2))
    let n = 0
    for (let w = 0; w < WARM; w++) for (const lane of lanes) await timed(lane, n++)
    const addedA: number[] = []
    const addedB: number[] = []
    for (let r = 0; r < rounds; r++) {
      const lat = lanes.map(() => [] as number[])
      for (let p = 0; p < pairs; p++) {
        for (let j = 0; j < lanes.length; j++) {
          const k = (p + j) % lanes.length
          ;(lat[k] as number[]).push(await timed(lanes[k] as Path, n++))
        }
      }
      const d = median(lat[0] as number[])
      addedA.push(median(lat[1] as number[]) - d)
      addedB.push(median(lat[2] as number[]) - d)
      console.log(`round ${r + 1}: direct p50 ${d.toFixed(2)} ms, A +${(addedA[r] as number).toFixed(2)} ms, B +${(addedB[r] as number).toFixed(2)} ms`)
    }
    const ma = median(addedA)
    const mb = median(addedB)
    console.log(`\nadded p50 (median of ${rounds} rounds): A ${ma.toFixed(2)} ms, B ${mb.toFixed(2)} ms, B/A ${(mb / ma).toFixed(2)}`)
    console.log(`A = ${rootA}\nB = ${packageRoot()}`)
    return 0
  } finally {
    await Promise.all(lanes.map((l) => l.pool.close()))
    await groupA.stopAll()
    await groupB.stopAll()
  }
}

runIfEntry(import.meta.url, 'compare-builds', main)
