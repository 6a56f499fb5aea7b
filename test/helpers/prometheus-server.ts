import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import YAML from 'yaml'
import { freePort, RULES_FILE } from './promtool.js'
import type { DeepPartial, TsfmConfig } from '../../src/config/types.js'
import { startTestDaemon, type TestDaemon } from './daemon.js'
import { makeTmpDir, type TmpDir } from './tmp-files.js'

/** GET a JSON document; null on any status but 200. */
export async function getJson(url: string): Promise<any> {
  const res = await request(url)
  const text = await res.body.text()
  return res.statusCode === 200 ? JSON.parse(text) : null
}

/** Polls `probe` every 250 ms until it gives a value (a throw counts as "not yet"). */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => null)
    if (v !== null && v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** A Prometheus duration (`15m`, `1h30m`, `250ms`) in ms. */
export function durationMs(d: string): number {
  let ms = 0
  let rest = d.trim()
  for (;;) {
    const m = /^(\d+)(ms|s|m|h|d)/.exec(rest)
    if (m === null) break
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    rest = rest.slice(m[0].length)
  }
  if (rest !== '' || d.trim() === '') throw new Error(`not a Prometheus duration: ${JSON.stringify(d)}`)
  return ms
}

/**
 * deploy/prometheus/rules.yml as YAML text with every alert's `for:` divided by `factor` (rounded
 * to whole ms); every `expr` — range windows included — left exactly as shipped. For a live test
 * that cannot wait the real hold times (15 minutes for TsfmDegradedMode); the real durations are
 * exercised by `promtool test rules deploy/prometheus/rules.test.yml` (test/deploy/rules.test.ts).
 */
export function compressedRules(factor: number): string {
  const doc = YAML.parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: { alert?: string; for?: string }[] }[] }
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.alert === undefined || r.for === undefined) continue
      r.for = `${Math.round(durationMs(r.for) / factor)}ms`
    }
  }
  return YAML.stringify(doc)
}

export interface LivePrometheus {
  readonly url: string
  /** Its stdout and stderr so far. */
  log(): string
  close(): Promise<void>
}

/**
 * A real Prometheus on 127.0.0.1 (scrape and evaluation every 1 s) scraping `target` as job
 * `tsfm-runner`, with `rulesFile`; resolves once `/-/ready` answers 200.
 */
export async function startPrometheus(tmp: TmpDir, target: string, rulesFile: string = RULES_FILE): Promise<LivePrometheus> {
  const config = tmp.write(
    'prometheus.yml',
    YAML.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [rulesFile],
      scrape_configs: [{ job_name: 'tsfm-runner', static_configs: [{ targets: [target] }] }],
    }),
  )
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let log = ''
  const prom: ChildProcess = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(tmp.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  prom.stdout?.on('data', (b: Buffer) => (log += b.toString()))
  prom.stderr?.on('data', (b: Buffer) => (log += b.toString()))
  const close = async (): Promise<void> => {
    if (prom.exitCode !== null || prom.signalCode !== null) return
    const exited = new Promise((r) => prom.once('exit', r))
    prom.kill('SIGTERM')
    const timer = setTimeout(() => prom.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await until(`Prometheus ready on ${url}`, 20_000, async () => {
      if (prom.exitCode !== null) throw new Error(`prometheus exited: ${log}`)
      const res = await request(`${url}/-/ready`)
      await res.body.dump()
      return res.statusCode === 200 ? true : null
    })
  } catch (e) {
    await close()
    throw new Error(`${(e as Error).message}\n${log}`)
  }
  return { url, log: () => log, close }
}

/** A test daemon and a Prometheus scraping it (startScrapedDaemon). */
export interface ScrapedDaemon {
  readonly d: TestDaemon
  readonly prom: LivePrometheus
  /** The daemon's host:port, Prometheus's `instance` label. */
  readonly target: string
  close(): Promise<void>
}

/**
 * A test daemon whose simulator has only `mock` installed (the daemon's model; rate limits off,
 * `tsfm` for the rest) and a Prometheus scraping it every second, with `rules` (a file written into
 * the temp dir) or the shipped rules. Whatever started is stopped again if a later step fails.
 */
export async function startScrapedDaemon(prefix: string, tsfm: DeepPartial<TsfmConfig> = {}, rules?: (tmp: TmpDir) => string): Promise<ScrapedDaemon> {
  const d = await startTestDaemon({
    sim: { models: ['mock'] },
    config: { tsfm: { ...tsfm, adapter: { model: 'mock', batch_window_ms: 0 }, server: { rate_limit: { enabled: false } } } },
  })
  const target = new URL(d.url).host
  const tmp = makeTmpDir(prefix)
  const stop = async (prom: LivePrometheus | null): Promise<void> => {
    await prom?.close()
    await d.close()
    tmp.remove()
  }
  let prom: LivePrometheus
  try {
    prom = await startPrometheus(tmp, target, rules?.(tmp))
  } catch (e) {
    await stop(null)
    throw e
  }
  return { d, prom, target, close: () => stop(prom) }
}
