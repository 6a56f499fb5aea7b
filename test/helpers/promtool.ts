import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { packageRoot } from '../../src/paths.js'
import { call, startTestDaemon } from './daemon.js'
import { probabilities } from './request-bodies.js'

/** deploy/prometheus and deploy/grafana, absolute. */
export const DEPLOY = join(packageRoot(), 'deploy')
export const RULES_FILE = join(DEPLOY, 'prometheus', 'rules.yml')
export const RULES_TEST_FILE = join(DEPLOY, 'prometheus', 'rules.test.yml')
export const DASHBOARD_FILE = join(DEPLOY, 'grafana', 'tsfm-runner.json')

function installed(bin: string): boolean {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  return r.error === undefined && r.status === 0
}

/** `promtool` / `prometheus` on PATH (CI installs the Debian package in .ci/run). */
export const HAVE_PROMTOOL = installed('promtool')
export const HAVE_PROMETHEUS = installed('prometheus')

export interface Run {
  readonly code: number | null
  readonly out: string
}

/** Runs a tool to its end; stdout and stderr together (promtool splits its verdicts between them). */
export function run(bin: string, args: readonly string[], cwd = packageRoot()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (out += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

/** A port nobody listened on a moment ago (another process may still take it: callers start at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']
const KEYWORDS = new Set([...AGGREGATIONS, 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan'])

/**
 * The metric names a PromQL expression selects. Not a parser (promtool checks the syntax): strings,
 * label matchers, ranges and grouping lists are removed, then every identifier that is neither a
 * keyword, a function call, nor part of a number or duration is a metric name.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  const out = new Set<string>()
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0]
    const before = s[m.index - 1] ?? ' '
    const after = s.slice(m.index + name.length).trimStart()[0]
    if (/[0-9.]/.test(before) || after === '(' || KEYWORDS.has(name.toLowerCase())) continue
    out.add(name)
  }
  return [...out]
}

/** The label names an expression's matchers and grouping clauses (`by`, `on`, …) name. */
export function labelNames(expr: string): string[] {
  const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')
  const out = new Set<string>()
  for (const m of s.matchAll(/\{([^}]*)\}/g)) for (const l of (m[1] as string).matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) out.add(l[1] as string)
  for (const m of s.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const l of (m[1] as string).split(',')) if (l.trim() !== '') out.add(l.trim())
  }
  return [...out]
}

export interface Exported {
  /** Every metric name, histograms with `_bucket`, `_sum` and `_count`. */
  readonly names: Set<string>
  /** The label names seen on each name's series (a name with no series yet has none here). */
  readonly labels: Map<string, Set<string>>
}

/**
 * Every metric name a test daemon exports (default metrics on), histograms with their `_bucket`,
 * `_sum` and `_count` series, after an upstream answer and a baseline one — from the `# TYPE`
 * lines, so a gauge with no series yet (conformal segments) counts too — and the labels of its series.
 */
export async function exportedMetrics(): Promise<Exported> {
  const d = await startTestDaemon({ defaultMetrics: true })
  try {
    await call(d.url, '/tsfm/forecast', { body: { market_id: 'deploy-1', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) } })
    await call(d.url, '/tsfm/forecast', { body: { market_id: 'deploy-2', as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(4) } })
    const text = (await call(d.url, '/metrics')).text
    const names = new Set<string>()
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string]
      names.add(name)
      if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    }
    const labels = new Map<string, Set<string>>()
    for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/gm)) {
      const set = labels.get(m[1] as string) ?? new Set<string>()
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="(?:[^"\\]|\\.)*"/g)) set.add(l[1] as string)
      labels.set(m[1] as string, set)
    }
    return { names, labels }
  } finally {
    await d.close()
  }
}

/**
 * The labels `expr` names that none of the metrics it selects carries (Prometheus's `job` and
 * `instance` always allowed). A metric with no series in the exposition, or a name `extra` does not
 * know either, makes the check permissive for that expression.
 */
export function unknownLabels(expr: string, exported: Exported, extra: ReadonlyMap<string, ReadonlySet<string>> = new Map()): string[] {
  const allowed = new Set(['job', 'instance'])
  for (const name of metricNames(expr)) {
    const set = exported.labels.get(name) ?? extra.get(name)
    if (set === undefined) return []
    for (const l of set) allowed.add(l)
  }
  return labelNames(expr).filter((l) => !allowed.has(l))
}

/** Series Prometheus makes itself for every target / alert. */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'ALERTS', 'ALERTS_FOR_STATE'])
