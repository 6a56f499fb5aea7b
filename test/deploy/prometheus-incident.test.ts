import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import YAML from 'yaml'
import { compressedConfig } from '../../perf/profiles/incident.js'
import type { DeepPartial, TsfmConfig } from '../../src/config/types.js'
import { call, type TestDaemon } from '../helpers/daemon.js'
import { compressedRules, getJson, startScrapedDaemon, until, type LivePrometheus, type ScrapedDaemon } from '../helpers/prometheus-server.js'
import { HAVE_PROMETHEUS, RULES_FILE } from '../helpers/promtool.js'
import { probabilities } from '../helpers/request-bodies.js'

if (!HAVE_PROMETHEUS) console.error('test/deploy/prometheus-incident: prometheus is not installed (apt-get install prometheus) — the live incident test is SKIPPED')

/**
 * The rules' hold times (`for:`) divided by this: a test cannot wait 15 minutes for TsfmDegradedMode
 * (2m → 2 s for TsfmCircuitBreakerOpen, 1m → 1 s for TsfmBaselineOnly, 15m → 15 s for
 * TsfmDegradedMode). Only the hold times: every expression is the shipped one, unchanged, and
 * test/deploy/rules.test.ts runs `promtool test rules` on the real durations. The three alerts this
 * test waits for select instantaneous gauges, so the range windows other expressions keep (`[5m]`)
 * do not matter here.
 */
const RULES_COMPRESS = 60
/**
 * The daemon's breaker and mode-machine windows, cooldowns and probe interval divided by this, as
 * `make bench-incident` does (perf/profiles/incident.ts explains why 40 and not more: the mode
 * machine's windows are made of 1 s buckets).
 */
const DAEMON_COMPRESS = 40
/**
 * compressedConfig(DAEMON_COMPRESS), and every client request in baseline-only is a probe
 * (probe_every_n_requests 1, stock 20). The bench compresses the load as well (4 req/s × 40 = 160
 * req/s, one in 20 a probe: 8 probes/s); this test's trickle is 8 req/s, so one in 1 gives the
 * baseline-only exit window (120 s / 40 = 3 s) the same evidence. With one in 20 it would see the
 * 1-per-second periodic probe and a few client probes — under min_requests (10) — and never leave.
 */
function daemonConfig(): DeepPartial<TsfmConfig> {
  const c = compressedConfig(DAEMON_COMPRESS)
  return { ...c, degradation: { ...c.degradation, probe_every_n_requests: 1 } }
}
/** One forecast request this often, each for a new market (no cache hit hides the upstream). */
const TRICKLE_EVERY_MS = 125
const INCIDENT_ALERTS = ['TsfmCircuitBreakerOpen', 'TsfmBaselineOnly', 'TsfmDegradedMode'] as const
type IncidentAlert = (typeof INCIDENT_ALERTS)[number]

interface Alert {
  readonly labels: Record<string, string>
  readonly annotations: Record<string, string>
  readonly state: 'pending' | 'firing' | 'inactive'
  readonly activeAt: string
  readonly value: string
}

/**
 * A real Prometheus with deploy/prometheus/rules.yml (hold times compressed, see RULES_COMPRESS)
 * scraping a time-compressed daemon (see DAEMON_COMPRESS) while a steady trickle of forecast
 * requests runs and the simulator fails every forecast request with a 503 for a while, then heals:
 * the incident alerts go pending, then firing, then resolve once the daemon has found its way back.
 */
describe.skipIf(!HAVE_PROMETHEUS)('deploy/prometheus/rules.yml alerts in a running Prometheus through a scripted upstream incident', () => {
  let scraped: ScrapedDaemon | null = null
  let d: TestDaemon
  let prom: LivePrometheus
  let target = ''

  beforeAll(async () => {
    scraped = await startScrapedDaemon('tsfm-prometheus-incident-', daemonConfig(), (tmp) => tmp.write('rules.yml', compressedRules(RULES_COMPRESS)))
    ;({ d, prom, target } = scraped)
  }, 40_000)

  afterAll(async () => {
    await scraped?.close()
  }, 20_000)

  it('fires TsfmCircuitBreakerOpen, TsfmBaselineOnly and TsfmDegradedMode while tollama fails, and resolves them after it heals', async () => {
    const promUrl = prom.url
    const t0 = Date.now()
    const at = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`
    const timeline: string[] = []
    const note = (what: string): void => void timeline.push(`${at()} ${what}`)
    let summary = ''
    // The timeline explains a failure (which alert, when); on success it is only noise.
    onTestFailed(() => console.error(`prometheus-incident: ${summary}\n  ${timeline.join('\n  ')}`))

    // The copy Prometheus loaded differs from the shipped file in the hold times only.
    const strip = (doc: any): unknown => ({ ...doc, groups: doc.groups.map((g: any) => ({ ...g, rules: g.rules.map(({ for: _for, ...r }: any) => r) })) })
    const shipped = YAML.parse(readFileSync(RULES_FILE, 'utf8'))
    const copy = YAML.parse(compressedRules(RULES_COMPRESS))
    expect(strip(copy)).toEqual(strip(shipped))
    expect(copy.groups[1].rules.find((r: any) => r.alert === 'TsfmDegradedMode').for).toBe('15000ms')

    const rules = await getJson(`${promUrl}/api/v1/rules`)
    expect(Object.fromEntries(rules.data.groups.map((g: any) => [g.name, g.rules.length]))).toEqual({ 'tsfm-runner.recording': 10, 'tsfm-runner.alerts': 15 })
    const alertRules = new Map<string, any>(rules.data.groups.flatMap((g: any) => g.rules.filter((r: any) => r.type === 'alerting').map((r: any) => [r.name, r])))
    expect(alertRules.size).toBe(15)
    for (const name of INCIDENT_ALERTS) expect({ name, health: alertRules.get(name)?.health }).toEqual({ name, health: expect.stringMatching(/^(ok|unknown)$/) })
    expect(alertRules.get('TsfmCircuitBreakerOpen').duration).toBe(2)
    expect(alertRules.get('TsfmBaselineOnly').duration).toBe(1)
    expect(alertRules.get('TsfmDegradedMode').duration).toBe(15)

    // The trickle: a forecast request every TRICKLE_EVERY_MS, each for its own market, answered 200
    // throughout (from the upstream, or from the baseline while it fails).
    let sent = 0
    const statuses = new Map<number, number>()
    const runtimes = new Map<string, number>()
    const pending = new Set<Promise<void>>()
    const send = (): void => {
      const i = sent++
      const p = call(d.url, '/tsfm/forecast', { body: { market_id: `incident-${i}`, as_of_ts: '2026-02-20T00:00:00Z', y: probabilities(64) } })
        .then((r) => {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
          const runtime = String(r.body?.meta?.runtime ?? 'none')
          runtimes.set(runtime, (runtimes.get(runtime) ?? 0) + 1)
        })
        .catch(() => void statuses.set(-1, (statuses.get(-1) ?? 0) + 1))
        .finally(() => pending.delete(p))
      pending.add(p)
    }
    const trickle = setInterval(send, TRICKLE_EVERY_MS)

    // Every state Prometheus reports for the incident alerts, first seen when (this clock).
    const seen = new Map<string, number>()
    let alertsNow: Alert[] = []
    let polling = true
    const poller = (async () => {
      while (polling) {
        const r = await getJson(`${promUrl}/api/v1/alerts`).catch(() => null)
        if (r !== null) {
          alertsNow = r.data.alerts as Alert[]
          for (const a of alertsNow) {
            const key = `${a.labels.alertname}:${a.state}`
            if (!seen.has(key)) {
              seen.set(key, Date.now())
              note(key)
            }
          }
        }
        await new Promise((res) => setTimeout(res, 200))
      }
    })()
    const firing = (name: string): Alert | undefined => alertsNow.find((a) => a.labels.alertname === name && a.state === 'firing')

    let breakerOpenSeen = false
    const modesSeen = new Set<string>()
    const lane = async (): Promise<{ breaker: string; mode: string }> => {
      const s = (await call(d.url, '/tsfm/state')).body
      const l = { breaker: s.lanes.mock.breaker.state as string, mode: s.lanes.mock.mode.mode as string }
      if (l.breaker === 'open') breakerOpenSeen = true
      if (!modesSeen.has(l.mode)) note(`daemon mode ${l.mode}`)
      modesSeen.add(l.mode)
      return l
    }

    try {
      // Healthy: Prometheus has scraped the lane's breaker (closed) and mode (normal), nothing fires.
      const q = encodeURIComponent('tsfm_circuit_breaker_state{job="tsfm-runner",lane="mock"} + on (job, instance, lane) tsfm_degradation_mode')
      await until('a scrape of the healthy lane', 20_000, async () => {
        const r = await getJson(`${promUrl}/api/v1/query?query=${q}`)
        return r?.data?.result?.length === 1 && r.data.result[0].value[1] === '0' ? true : null
      })
      expect(await lane()).toEqual({ breaker: 'closed', mode: 'normal' })
      for (const name of INCIDENT_ALERTS) expect(alertsNow.filter((a) => a.labels.alertname === name)).toEqual([])
      note('healthy')

      // The incident: every forecast request tollama gets is answered 503.
      d.sim.setFaults({ faults: { http_503: 1 } })
      note('faults on')
      await until('the daemon to open the breaker', 20_000, async () => ((await lane()).breaker === 'open' ? true : null))
      note('daemon breaker open')
      const open = await until('TsfmCircuitBreakerOpen firing', 20_000, async () => firing('TsfmCircuitBreakerOpen'))
      await until('TsfmBaselineOnly firing', 20_000, async () => {
        await lane()
        return firing('TsfmBaselineOnly')
      })
      expect(open.labels).toEqual({ alertname: 'TsfmCircuitBreakerOpen', job: 'tsfm-runner', instance: target, lane: 'mock', severity: 'critical' })
      expect(open.annotations.summary).toBe(`tsfm-runner ${target} breaker of lane mock open for 2m`)
      expect(Number(open.value)).toBe(2)
      expect(firing('TsfmBaselineOnly')?.labels).toEqual({ alertname: 'TsfmBaselineOnly', job: 'tsfm-runner', instance: target, lane: 'mock', severity: 'critical' })

      // Healed: the runner finds its own way back (breaker half-open probes, mode-machine probes and
      // the trickle); TsfmDegradedMode (15 s here) fires on the way, since the lane has not been
      // normal since the incident began.
      d.sim.setFaults({ faults: {} })
      note('faults off')
      await until('TsfmDegradedMode firing', 40_000, async () => {
        await lane()
        return firing('TsfmDegradedMode')
      })
      await until('the daemon back to a closed breaker and normal mode', 45_000, async () => {
        const l = await lane()
        return l.breaker === 'closed' && l.mode === 'normal' ? true : null
      })
      note('daemon closed/normal')
      await until('the incident alerts to resolve', 15_000, async () => (alertsNow.some((a) => (INCIDENT_ALERTS as readonly string[]).includes(a.labels.alertname) && a.state === 'firing') ? null : true))
      note('resolved')
    } finally {
      clearInterval(trickle)
      polling = false
      await poller
      await Promise.all([...pending])
      summary = `${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, runtimes ${JSON.stringify(Object.fromEntries(runtimes))}`
    }

    // Not vacuous: the daemon itself reported the open breaker and each mode, and Prometheus showed
    // each alert pending before firing — then none of them active any more.
    expect(breakerOpenSeen).toBe(true)
    expect([...modesSeen].sort()).toEqual(['baseline-only', 'degraded', 'normal'])
    for (const name of INCIDENT_ALERTS as readonly IncidentAlert[]) {
      expect({ name, firing: seen.has(`${name}:firing`) }).toEqual({ name, firing: true })
      if (seen.has(`${name}:pending`)) expect(seen.get(`${name}:pending`) as number).toBeLessThanOrEqual(seen.get(`${name}:firing`) as number)
    }
    // The 2 s and 15 s holds are long next to the 200 ms poll: their pending state was seen.
    expect(seen.has('TsfmCircuitBreakerOpen:pending')).toBe(true)
    expect(seen.has('TsfmDegradedMode:pending')).toBe(true)
    // Prometheus's own record (ALERTS series) has each alert both pending and firing.
    const hist = await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(`count by (alertname, alertstate) (count_over_time(ALERTS{alertname=~"${INCIDENT_ALERTS.join('|')}"}[5m]))`)}`)
    expect(hist.data.result.map((r: any) => `${r.metric.alertname}:${r.metric.alertstate}`).sort()).toEqual(INCIDENT_ALERTS.flatMap((n) => [`${n}:firing`, `${n}:pending`]).sort())
    const after = (await getJson(`${promUrl}/api/v1/alerts`)).data.alerts as Alert[]
    expect(after.filter((a) => (INCIDENT_ALERTS as readonly string[]).includes(a.labels.alertname) && a.state === 'firing')).toEqual([])
    expect(statuses.get(200)).toBe(sent)
    expect(runtimes.get('baseline') ?? 0).toBeGreaterThan(0)
  }, 85_000)
})
