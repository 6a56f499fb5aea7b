import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { makeTmpDir } from '../helpers/tmp-files.js'
import { DASHBOARD_FILE, exportedMetrics, HAVE_PROMTOOL, metricNames, PROMETHEUS_SERIES, run, unknownLabels, type Exported } from '../helpers/promtool.js'

interface Target {
  readonly expr: string
  readonly refId: string
  readonly datasource?: { type: string; uid: string }
}
interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly datasource?: { type: string; uid: string }
  readonly gridPos: { h: number; w: number; x: number; y: number }
  readonly targets?: Target[]
  readonly panels?: Panel[]
}
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
  __inputs: Array<{ name: string; pluginId: string }>
  templating: { list: Array<{ name: string; type: string; allValue?: string }> }
  panels: Panel[]
}
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })))

/** The value each Grafana variable takes in the check: the interval a rate needs, "all" for the label variables. */
const VALUES: Record<string, string> = { __rate_interval: '1m', __interval: '1m', __range: '1h', job: 'tsfm-runner', instance: '.*', lane: '.*' }

/** An expression as Prometheus receives it from Grafana. */
function substitute(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const v = VALUES[(braced ?? bare) as string]
    if (v === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`)
    return v
  })
}

describe('deploy/grafana/tsfm-runner.json', () => {
  let exported: Exported
  beforeAll(async () => {
    exported = await exportedMetrics()
  })

  it('takes its Prometheus as the ${DS_PROMETHEUS} input, and every panel and target uses it', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus' })])
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['DS_PROMETHEUS', 'job', 'instance', 'lane'])
    for (const p of panels.filter((q) => q.type !== 'row')) {
      expect({ panel: p.title, ds: p.datasource }).toEqual({ panel: p.title, ds: { type: 'prometheus', uid: '${DS_PROMETHEUS}' } })
      expect(p.targets?.length ?? 0).toBeGreaterThan(0)
      for (const t of p.targets ?? []) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' })
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length)
    for (const p of panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24)
  })

  it('shows what issue 13 asks for', () => {
    const all = targets.map((t) => t.expr).join('\n')
    for (const m of [
      'tsfm_request_latency_ms_bucket', 'tsfm_fallback_total', 'tsfm_cache_requests_total', 'tsfm_degradation_mode', 'tsfm_circuit_breaker_state',
      'tollama_latency_ms_bucket', 'tsfm_upstream_batch_size_bucket', 'tsfm_lane_inflight_limit', 'tsfm_lane_inflight', 'tsfm_lane_queue_depth',
      'tsfm_conformal_coverage', 'tsfm_conformal_width', 'tsfm_http_request_duration_seconds_bucket', 'tsfm_cycle_duration_seconds_bucket',
    ]) expect(all).toContain(m)
    expect(panels.filter((p) => p.type === 'state-timeline').map((p) => p.title)).toEqual(['Degradation mode per lane', 'Circuit breaker per lane'])
  })

  it('selects only metrics the daemon exports (or `up`)', () => {
    const unknown: string[] = []
    for (const t of targets) for (const name of metricNames(substitute(t.expr))) if (!exported.names.has(name) && !PROMETHEUS_SERIES.has(name)) unknown.push(`${t.panel}: ${name}`)
    expect(unknown).toEqual([])
    for (const t of targets) expect({ panel: t.panel, refId: t.refId, found: metricNames(substitute(t.expr)).length > 0 }).toEqual({ panel: t.panel, refId: t.refId, found: true })
  })

  it('names only labels the selected metrics carry', () => {
    const wrong = targets.flatMap((t) => unknownLabels(substitute(t.expr), exported).map((l) => `${t.panel} ${t.refId}: ${l}`))
    expect(wrong).toEqual([])
  })

  it.skipIf(!HAVE_PROMTOOL)('has expressions that Prometheus parses (promtool check rules over one recording rule per expression)', async () => {
    const tmp = makeTmpDir('tsfm-dashboard-')
    try {
      const rules = targets.map((t, i) => ({ record: `dashboard:expr_${i}`, expr: substitute(t.expr) }))
      const file = tmp.write('dashboard-rules.yml', YAML.stringify({ groups: [{ name: 'dashboard', rules }] }))
      const r = await run('promtool', ['check', 'rules', file])
      expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`)
      expect(r.code).toBe(0)
    } finally {
      tmp.remove()
    }
  })

  it.skipIf(!HAVE_PROMTOOL)('would catch a broken expression (the check is not blind)', async () => {
    const tmp = makeTmpDir('tsfm-dashboard-')
    try {
      const file = tmp.write('bad.yml', YAML.stringify({ groups: [{ name: 'bad', rules: [{ record: 'bad:x', expr: substitute('sum by (lane (rate(tsfm_lane_shed_total[$__rate_interval]))') }] }] }))
      const r = await run('promtool', ['check', 'rules', file])
      expect(r.code).not.toBe(0)
    } finally {
      tmp.remove()
    }
  })
})
if (!HAVE_PROMTOOL) console.error('test/deploy/dashboard: promtool is not installed (apt-get install prometheus) — the PromQL syntax checks are SKIPPED')
