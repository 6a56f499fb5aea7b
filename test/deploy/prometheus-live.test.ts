import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type TestDaemon } from '../helpers/daemon.js'
import { getJson, startScrapedDaemon, until, type ScrapedDaemon } from '../helpers/prometheus-server.js'
import { HAVE_PROMETHEUS } from '../helpers/promtool.js'
import { probabilities } from '../helpers/request-bodies.js'

if (!HAVE_PROMETHEUS) console.error('test/deploy/prometheus-live: prometheus is not installed (apt-get install prometheus) — the live alert test is SKIPPED')

/**
 * A real Prometheus (scrape and evaluation every 1 s, deploy/prometheus/rules.yml) scraping a test
 * daemon whose simulator has only `mock` installed: requests naming `chronos2` are answered from the
 * baseline as upstream_model_missing, and TsfmUpstreamModelMissing (for: 0m) must fire.
 */
describe.skipIf(!HAVE_PROMETHEUS)('deploy/prometheus/rules.yml in a running Prometheus', () => {
  let scraped: ScrapedDaemon | null = null
  let d: TestDaemon
  let promUrl = ''
  let target = ''

  beforeAll(async () => {
    scraped = await startScrapedDaemon('tsfm-prometheus-')
    ;({ d, target } = scraped)
    promUrl = scraped.prom.url
  }, 40_000)

  afterAll(async () => {
    await scraped?.close()
  }, 20_000)

  it('loads every rule, scrapes the daemon, and fires TsfmUpstreamModelMissing after requests for a model tollama does not have', async () => {
    const rules = await getJson(`${promUrl}/api/v1/rules`)
    expect(Object.fromEntries(rules.data.groups.map((g: any) => [g.name, g.rules.length]))).toEqual({ 'tsfm-runner.recording': 10, 'tsfm-runner.alerts': 15 })
    for (const g of rules.data.groups) for (const r of g.rules) expect({ rule: r.name, health: r.health }).toEqual({ rule: r.name, health: expect.stringMatching(/^(ok|unknown)$/) })

    // The counter is scraped at 0 before the burst (it exists from the start), so increase() sees the burst.
    const q = encodeURIComponent('tsfm_fallback_total{job="tsfm-runner",reason="upstream_model_missing"}')
    await until('the first scrape', 15_000, async () => {
      const r = await getJson(`${promUrl}/api/v1/query?query=${q}`)
      return r?.data?.result?.length === 1 ? r.data.result[0].value[1] : null
    }).then((v) => expect(v).toBe('0'))
    const up = await getJson(`${promUrl}/api/v1/query?query=up`)
    expect(up.data.result).toEqual([expect.objectContaining({ metric: expect.objectContaining({ job: 'tsfm-runner', instance: target }), value: [expect.any(Number), '1'] })])
    // Firing ones only: a loaded CI runner may show TsfmEventLoopLagHigh pending (for: 5m).
    const firing = async (): Promise<string[]> => (await getJson(`${promUrl}/api/v1/alerts`)).data.alerts.filter((a: any) => a.state === 'firing').map((a: any) => a.labels.alertname)
    expect(await firing()).toEqual([])

    for (let i = 0; i < 3; i++) {
      const r = await call(d.url, '/tsfm/forecast', { body: { market_id: `wrong-${i}`, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64), model: { model_name: 'chronos2' } } })
      expect(r.status).toBe(200)
      expect(r.body.meta.fallback_reason).toBe('upstream_model_missing')
    }

    const alert = await until('TsfmUpstreamModelMissing firing', 20_000, async () => {
      const r = await getJson(`${promUrl}/api/v1/alerts`)
      return (r?.data?.alerts ?? []).find((a: any) => a.labels.alertname === 'TsfmUpstreamModelMissing' && a.state === 'firing')
    })
    expect(alert.labels).toEqual({ alertname: 'TsfmUpstreamModelMissing', job: 'tsfm-runner', instance: target, severity: 'warning' })
    expect(alert.annotations.summary).toBe(`tsfm-runner ${target}: requests name a model tollama does not have`)
    expect(Number(alert.value)).toBeGreaterThan(0)
    // Nothing else: the breaker and the mode ignore a missing model, and the target is up.
    expect(await firing()).toEqual(['TsfmUpstreamModelMissing'])
  }, 60_000)
})
