import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { exportedMetrics, HAVE_PROMTOOL, labelNames, metricNames, PROMETHEUS_SERIES, RULES_FILE, RULES_TEST_FILE, run, unknownLabels, type Exported } from '../helpers/promtool.js'

interface Rule {
  readonly record?: string
  readonly alert?: string
  readonly expr: string
  readonly for?: string
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
}
const groups = (YAML.parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups
const rules = groups.flatMap((g) => g.rules)
const alerts = rules.filter((r) => r.alert !== undefined)
const recorded = new Set(rules.flatMap((r) => (r.record === undefined ? [] : [r.record])))

if (!HAVE_PROMTOOL) console.error('test/deploy/rules: promtool is not installed (apt-get install prometheus) — the promtool checks are SKIPPED')

describe.skipIf(!HAVE_PROMTOOL)('deploy/prometheus/rules.yml through promtool', () => {
  it('passes `promtool check rules`', async () => {
    const r = await run('promtool', ['check', 'rules', RULES_FILE])
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(r.code).toBe(0)
  })

  it('passes its unit tests: `promtool test rules deploy/prometheus/rules.test.yml`', async () => {
    const r = await run('promtool', ['test', 'rules', RULES_TEST_FILE])
    expect(r.out).toContain('SUCCESS')
    expect(r.code).toBe(0)
  })
})

describe('deploy/prometheus/rules.yml', () => {
  let exported: Exported
  beforeAll(async () => {
    exported = await exportedMetrics()
  })

  it('selects only metrics the daemon exports, series Prometheus makes, or its own recording rules', () => {
    const unknown: string[] = []
    for (const r of rules) for (const name of metricNames(r.expr)) if (!exported.names.has(name) && !PROMETHEUS_SERIES.has(name) && !recorded.has(name)) unknown.push(`${r.record ?? r.alert}: ${name}`)
    expect(unknown).toEqual([])
    // The extractor finds something in every rule (it is not silently blind).
    for (const r of rules) expect({ rule: r.record ?? r.alert, names: metricNames(r.expr).length > 0 }).toEqual({ rule: r.record ?? r.alert, names: true })
  })

  it('names only labels the selected metrics carry (recording rules: the labels they keep)', () => {
    const kept = new Map(rules.flatMap((r) => (r.record === undefined ? [] : [[r.record, new Set(labelNames(r.expr))] as const])))
    const wrong = rules.flatMap((r) => unknownLabels(r.expr, exported, kept).map((l) => `${r.record ?? r.alert}: ${l}`))
    expect(wrong).toEqual([])
  })

  it('gives every alert a severity, a summary and a description, and a unit test that fires it and one that keeps it silent', () => {
    const tests = (YAML.parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> }).tests
    const cases = tests.flatMap((t) => t.alert_rule_test ?? [])
    for (const a of alerts) {
      expect(['critical', 'warning']).toContain(a.labels?.severity)
      expect(a.annotations?.summary?.length ?? 0).toBeGreaterThan(10)
      expect(a.annotations?.description?.length ?? 0).toBeGreaterThan(40)
      const mine = cases.filter((c) => c.alertname === a.alert)
      expect({ alert: a.alert, fires: mine.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert: a.alert, fires: true })
      expect({ alert: a.alert, silent: mine.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert: a.alert, silent: true })
    }
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'TsfmBaselineLatencyP95High', 'TsfmBaselineOnly', 'TsfmCircuitBreakerFlapping', 'TsfmCircuitBreakerOpen', 'TsfmCycleSlow', 'TsfmDegradedMode', 'TsfmEventLoopLagHigh',
        'TsfmFallbackShareHigh', 'TsfmQueueSheds', 'TsfmRequestLatencyP95High', 'TsfmRequestLatencyP99High', 'TsfmReplicaDown', 'TsfmRequestsRejected', 'TsfmTargetDown', 'TsfmUpstreamModelMissing',
      ].sort(),
    )
  })
})

describe('metricNames (the PromQL name extractor these checks rely on)', () => {
  it('finds metric names and skips functions, keywords, labels, strings, durations and numbers', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (job, le) (rate(tsfm_request_latency_ms_bucket{job="x",le!~"1e3"}[5m] offset 1h)))')).toEqual(['tsfm_request_latency_ms_bucket'])
    expect(metricNames('a:b:c > 0.1 and on (job) max by (job) (tsfm_degradation_mode) == 0 unless bool ignoring(x) up offset 5m')).toEqual(['a:b:c', 'tsfm_degradation_mode', 'up'])
    expect(metricNames('sum(x) / ignoring (reason) group_left sum(rate(y[1m])) * 1e-3 + Inf')).toEqual(['x', 'y'])
  })

  it('finds the label names of matchers and grouping clauses, not of label values', () => {
    expect(labelNames('sum by (job, lane) (rate(x{status=~"429|5\\"03", runtime!="a=b"}[5m])) / on(job) group_left y{reason="r"}')).toEqual(['status', 'runtime', 'reason', 'job', 'lane'])
  })
})
