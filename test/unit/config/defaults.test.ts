import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { DEFAULTS, loadConfig, resolveConfig } from '../../../src/config/index.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'

// prd2-performance-blueprint.md §3, verbatim: "Use these as exact defaults unless overridden".
const BLUEPRINT_V1 = `tsfm:
  freq: 5m
  input_len_steps: 288
  horizon_steps: 12
  quantiles: [0.1, 0.5, 0.9]
  transform: { space: logit, eps: 1e-6 }
  missing:
    max_gap_minutes: 60
    min_points_for_tsfm: 32
  adapter:
    timeout_s: 1.2
    retry_count: 1
    retry_backoff_ms: 120
    retry_jitter_ms: 80
    deadline_budget_ms: 1600
    max_connections: 200
    max_keepalive_connections: 50
  cache:
    ttl_s: 60
    max_entries: 50000
    stale_while_revalidate_s: 20
  circuit_breaker:
    failures_to_open: 5
    cooldown_s: 120
  perf:
    worker_concurrency: 32
    per_market_inflight_limit: 1
    queue_timeout_ms: 100
  fallback:
    baseline_method: EWMA
    baseline_only_liquidity_bucket: low
  interval_sanity:
    min_width: 0.02
    max_width: 0.60
`

const tmp = makeTmpDir()
afterAll(() => tmp.remove())

describe('defaults', () => {
  it('equal the blueprint v1.0 profile key by key', () => {
    const profile = (parse(BLUEPRINT_V1) as { tsfm: Record<string, unknown> }).tsfm
    expect(DEFAULTS).toMatchObject(profile)
  })

  it('carry the other defaults SPEC §1 names', () => {
    expect(DEFAULTS.cache.stale_if_error_s).toBe(120)
    expect(DEFAULTS.circuit_breaker.half_open_probes).toBe(2)
    expect(DEFAULTS.adapter.base_url).toBe('http://127.0.0.1:11435')
    expect(DEFAULTS.adapter.model).toBe('chronos2')
    expect(DEFAULTS.server.host).toBe('127.0.0.1')
    expect(DEFAULTS.server.port).toBe(8080)
  })

  it('are the effective config when nothing is given', () => {
    const loaded = resolveConfig(undefined)
    expect(loaded.config).toEqual(DEFAULTS)
    expect(loaded.warnings).toEqual([])
    expect(loaded.notes).toEqual([])
    expect(loaded.file).toBeNull()
  })

  it('pass their own validation (every default satisfies its rule)', () => {
    expect(resolveConfig({ tsfm: DEFAULTS }).config).toEqual(DEFAULTS)
  })

  it('load the blueprint file itself to exactly the defaults, without warnings', () => {
    const file = tmp.write('blueprint.yaml', BLUEPRINT_V1)
    const loaded = loadConfig({ file, env: {} })
    expect(loaded.config).toEqual(DEFAULTS)
    expect(loaded.warnings).toEqual([])
    expect(loaded.file).toBe(file)
  })

  it('are not shared with a loaded config (changing a result cannot change DEFAULTS)', () => {
    const loaded = resolveConfig(undefined)
    expect(loaded.config.quantiles).not.toBe(DEFAULTS.quantiles)
    expect(loaded.config.cache).not.toBe(DEFAULTS.cache)
  })
})
