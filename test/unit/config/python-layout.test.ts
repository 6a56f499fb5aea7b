import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULTS, loadConfig, resolveConfig } from '../../../src/config/index.js'
import type { ConfigInput } from '../../../src/config/index.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'
import { thrown } from '../../helpers/thrown.js'

const PYTHON_FILE = fileURLToPath(new URL('../../fixtures/python_tsfm_runtime.yaml', import.meta.url))

const tmp = makeTmpDir()
afterAll(() => tmp.remove())

/** The Python service's keys are not in ConfigInput's type: these tests feed them as a file would. */
function resolvePython(tsfm: Record<string, unknown>, strict = false): ReturnType<typeof resolveConfig> {
  return resolveConfig({ tsfm } as ConfigInput, { strict })
}

describe("the Python service's configs/tsfm_runtime.yaml", () => {
  const loaded = loadConfig({ file: PYTHON_FILE, env: {}, strict: true })

  it('loads unchanged, even with --strict-config, and warns about nothing', () => {
    expect(loaded.warnings).toEqual([])
    expect(loaded.file).toBe(PYTHON_FILE)
  })

  it('notes (info level) that slo is accepted and ignored', () => {
    expect(loaded.notes).toEqual([
      'tsfm.slo is accepted for compatibility with the Python service and ignored: ' +
        'latency objectives are measured (/metrics, perf/), not configured',
    ])
  })

  it('takes conformal.state_path as the conformal state file, as the Python service does', () => {
    expect(loaded.config.conformal.state_path).toBe('data/derived/calibration/conformal_state.json')
  })

  it('keeps the keys both layouts share', () => {
    const c = loaded.config
    expect(c.cache).toEqual({ ttl_s: 60, max_entries: 50_000, stale_while_revalidate_s: 20, stale_if_error_s: 120, l2: DEFAULTS.cache.l2 })
    expect(c.transform).toEqual({ space: 'logit', eps: 1e-6 })
    expect(c.interval_sanity).toEqual({ min_width: 0.02, max_width: 0.6 })
    expect(c.routing).toEqual({ default_route: 'tsfm', enabled_segments: [], baseline_segments: [] })
  })

  it('takes its breaker window, minimum and rate as they are', () => {
    expect(loaded.config.circuit_breaker.window_s).toBe(300)
    expect(loaded.config.circuit_breaker.min_requests).toBe(5)
    expect(loaded.config.circuit_breaker.failure_rate_to_open).toBe(1)
  })

  it('maps circuit_breaker.half_open_probe_requests to half_open_probes', () => {
    expect(loaded.config.circuit_breaker.half_open_probes).toBe(2)
  })

  it('maps degradation.window_s to both entry windows and keeps the rates and probe ratio', () => {
    const d = loaded.config.degradation
    expect(d.degraded_enter_window_s).toBe(300)
    expect(d.baseline_only_enter_window_s).toBe(300)
    expect(d.min_requests).toBe(5)
    expect(d.degraded_enter_failure_rate).toBe(0.3)
    expect(d.baseline_only_enter_failure_rate).toBe(0.7)
    expect(d.degraded_exit_failure_rate).toBe(0.15)
    expect(d.baseline_only_exit_failure_rate).toBe(0.25)
    expect(d.probe_every_n_requests).toBe(1)
    // Windows the Python layout has no key for keep our defaults.
    expect(d.fast_trip_window_s).toBe(DEFAULTS.degradation.fast_trip_window_s)
    expect(d.degraded_exit_window_s).toBe(DEFAULTS.degradation.degraded_exit_window_s)
  })
})

describe('Python aliases', () => {
  it('maps the older circuit_breaker.failures to failures_to_open', () => {
    expect(resolvePython({ circuit_breaker: { failures: 7 } }).config.circuit_breaker.failures_to_open).toBe(7)
  })

  it('accepts an alias beside its canonical key when both say the same', () => {
    const loaded = resolvePython({ circuit_breaker: { half_open_probe_requests: 3, half_open_probes: 3 } })
    expect(loaded.config.circuit_breaker.half_open_probes).toBe(3)
    expect(loaded.warnings).toEqual([])
  })

  it('refuses an alias and its canonical key with different values, naming both paths', () => {
    const err = thrown(() => resolvePython({ circuit_breaker: { half_open_probe_requests: 3, half_open_probes: 2 } }))
    expect(err.code).toBe('TSFM_CONFIG_INVALID')
    expect(err.path).toBe('tsfm.circuit_breaker.half_open_probe_requests')
    expect(err.message).toBe(
      'tsfm.circuit_breaker.half_open_probe_requests must equal tsfm.circuit_breaker.half_open_probes when both are given ' +
        "(it is the Python service's name for it), got 3 and 2",
    )
  })

  it('refuses failures beside a different failures_to_open', () => {
    const err = thrown(() => resolvePython({ circuit_breaker: { failures_to_open: 5, failures: 4 } }))
    expect(err.message).toBe(
      'tsfm.circuit_breaker.failures must equal tsfm.circuit_breaker.failures_to_open when both are given ' +
        "(it is the Python service's name for it), got 4 and 5",
    )
  })

  it('lets an explicit entry window win over degradation.window_s', () => {
    const d = resolvePython({ degradation: { window_s: 240, degraded_enter_window_s: 180 } }).config.degradation
    expect(d.degraded_enter_window_s).toBe(180)
    expect(d.baseline_only_enter_window_s).toBe(240)
  })

  it('reports a bad degradation.window_s once, under its own path', () => {
    const err = thrown(() => resolvePython({ degradation: { window_s: 'five minutes' } }))
    expect(err.path).toBe('tsfm.degradation.window_s')
    expect(err.message).toBe('tsfm.degradation.window_s must be a positive number, got "five minutes"')
  })

  it('warns when half_open_successes_to_close differs from half_open_probes (all probes must succeed)', () => {
    const loaded = resolvePython({ circuit_breaker: { half_open_probe_requests: 3, half_open_successes_to_close: 1 } })
    expect(loaded.config.circuit_breaker.half_open_probes).toBe(3)
    expect(loaded.warnings).toEqual([
      'tsfm.circuit_breaker.half_open_successes_to_close (1) differs from tsfm.circuit_breaker.half_open_probes (3); ' +
        'it is ignored: the breaker closes only when every probe succeeds (SPEC §5)',
    ])
  })

  it('checks half_open_successes_to_close like any other integer', () => {
    const err = thrown(() => resolvePython({ circuit_breaker: { half_open_successes_to_close: 0 } }))
    expect(err.message).toBe('tsfm.circuit_breaker.half_open_successes_to_close must be a positive integer, got 0')
  })

  it('ignores whatever slo contains, without unknown-key warnings', () => {
    const loaded = resolvePython({ conformal: { state_path: 'x.json' }, slo: 'anything' }, true)
    expect(loaded.warnings).toEqual([])
    expect(loaded.notes).toHaveLength(1)
    expect(loaded.config).toEqual({ ...DEFAULTS, conformal: { ...DEFAULTS.conformal, state_path: 'x.json' } })
  })

  it('applies aliases in a file that mixes both layouts', () => {
    const file = tmp.write(
      'mixed.yaml',
      'tsfm:\n  circuit_breaker:\n    failures_to_open: 6\n    half_open_probe_requests: 4\n  adapter:\n    base_url: http://127.0.0.1:9999\n',
    )
    const c = loadConfig({ file, env: {} }).config
    expect(c.circuit_breaker.failures_to_open).toBe(6)
    expect(c.circuit_breaker.half_open_probes).toBe(4)
    expect(c.adapter.base_url).toBe('http://127.0.0.1:9999')
  })
})
