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
import { Pool } from 'undici'
import { runIfEntry } from '../../src/entry.js'
import { packageRoot } from '../../src/paths.js'
import { benchConfig } from '../load/bench-config.js'
import { intFlag } from '../load/flags.js'
import { median } from '../load/percentiles.js'
import { ProcessGroup } from '../load/processes.js'
import { RequestMix } from '../load/request-mix.js'
import { upstreamBody } from '../load/upstream-body.js'
import { runPrefix } from '../profiles/normal-load.js'

const HEADERS = { 'content-type': 'application/json' }
const SHAPES = 16
const WARM = 1500

interface Lane {
  readonly name: string
  readonly pool: Pool
  readonly path: string
  body(i: number): Buffer
}

async function send(lane: Lane, i: number): Promise<number> {
  const body = lane.body(i)
  const t0 = performance.now()
  const res = await lane.pool.request({ path: lane.path, method: 'POST', headers: HEADERS, body })
  const text = await res.body.text()
  const ms = performance.now() - t0
  if (res.statusCode !== 200) throw new Error(`${lane.name}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`)
  return ms
}

function daemonLane(name: string, url: string, prefix: string): Lane {
  const mix = new RequestMix({ prefix, uniqueKeys: Number.POSITIVE_INFINITY })
  return {
    name,
    pool: new Pool(url, { connections: 2 }),
    path: '/tsfm/forecast',
    body(i) {
      const b = mix.body(i)
      return typeof b === 'string' ? Buffer.from(b) : b
    },
  }
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
  const lanes: Lane[] = []
  try {
    const sim = await groupB.simulator(['--latency-fixed', '0', '--latency-per-series', '0'])
    const a = await groupA.daemon(benchConfig(sim.url), 'daemon A')
    const b = await groupB.daemon(benchConfig(sim.url), 'daemon B')
    const direct = new RequestMix({ prefix: 'direct', uniqueKeys: SHAPES, requests: SHAPES })
    const directBodies = Array.from({ length: SHAPES }, (_, k) => Buffer.from(upstreamBody(direct.body(k).toString())))
    lanes.push(
      { name: 'direct', pool: new Pool(sim.url, { connections: 2 }), path: '/api/forecast', body: (n) => directBodies[n % SHAPES] as Buffer },
      daemonLane(`A ${rootA}`, a.url, runPrefix('compare-a')),
      daemonLane(`B ${packageRoot()}`, b.url, runPrefix('compare-b')),
    )
    let n = 0
    for (let w = 0; w < WARM; w++) for (const lane of lanes) await send(lane, n++)
    const addedA: number[] = []
    const addedB: number[] = []
    for (let r = 0; r < rounds; r++) {
      const lat = lanes.map(() => [] as number[])
      for (let p = 0; p < pairs; p++) {
        for (let j = 0; j < lanes.length; j++) {
          const k = (p + j) % lanes.length
          ;(lat[k] as number[]).push(await send(lanes[k] as Lane, n++))
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
