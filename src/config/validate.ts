import { quote } from '../errors.js'
import { ACCEPTED } from './aliases.js'
import type { AcceptedKey } from './aliases.js'
import { DEFAULTS } from './defaults.js'
import type { Findings } from './findings.js'
import type { Entry, Layer } from './layer.js'
import { SCHEMA, isRule } from './schema.js'
import type { TsfmConfig } from './types.js'

/**
 * Merge the layers (later wins, key by key) over DEFAULTS and validate the effective value of
 * every key once, collecting every problem into `findings`. The result is built by walking
 * DEFAULTS, so it has the same keys in the same order whatever the input was.
 */

/** `path` must stand in `relation` to `other`; checked only when both are valid on their own. */
interface CrossRule {
  readonly path: string
  readonly other: string
  readonly relation: string
  readonly holds: (value: number, other: number) => boolean
}

const CROSS_RULES: readonly CrossRule[] = [
  { path: 'tsfm.interval_sanity.min_width', other: 'tsfm.interval_sanity.max_width', relation: 'less than', holds: (a, b) => a < b },
  { path: 'tsfm.adapter.max_keepalive_connections', other: 'tsfm.adapter.max_connections', relation: 'at most', holds: (a, b) => a <= b },
  { path: 'tsfm.circuit_breaker.max_cooldown_s', other: 'tsfm.circuit_breaker.cooldown_s', relation: 'at least', holds: (a, b) => a >= b },
  { path: 'tsfm.conformal.online.min_samples', other: 'tsfm.conformal.online.window', relation: 'at most', holds: (a, b) => a <= b },
  { path: 'tsfm.conformal.online.max_width_scale', other: 'tsfm.conformal.online.min_width_scale', relation: 'at least', holds: (a, b) => a >= b },
  // Node refuses to create a server whose header limit exceeds its whole-request limit (0 = none).
  {
    path: 'tsfm.server.headers_timeout_ms',
    other: 'tsfm.server.request_timeout_ms',
    relation: 'at most',
    holds: (a, b) => a === 0 || b === 0 || a <= b,
  },
  // The drain delay is part of the drain timeout; a delay as long would end every drain in a timeout.
  { path: 'tsfm.server.drain_delay_ms', other: 'tsfm.server.drain_timeout_ms', relation: 'less than', holds: (a, b) => a === 0 || a < b },
  // Hysteresis (SPEC §5): a mode left at the rate that entered it would flap on every window.
  {
    path: 'tsfm.degradation.degraded_exit_failure_rate',
    other: 'tsfm.degradation.degraded_enter_failure_rate',
    relation: 'less than',
    holds: (a, b) => a < b,
  },
  {
    path: 'tsfm.degradation.baseline_only_exit_failure_rate',
    other: 'tsfm.degradation.baseline_only_enter_failure_rate',
    relation: 'less than',
    holds: (a, b) => a < b,
  },
]

function mergeLayers(layers: readonly Layer[]): { entries: Map<string, Entry>; accepted: Map<string, Entry> } {
  const entries = new Map<string, Entry>()
  const accepted = new Map<string, Entry>()
  for (const layer of layers) {
    for (const [k, v] of layer.entries) entries.set(k, v)
    for (const [k, v] of layer.accepted) accepted.set(k, v)
  }
  return { entries, accepted }
}

/** A fresh copy of a validated value: arrays are never shared with the caller's input. */
function own(value: unknown): unknown {
  return Array.isArray(value) ? [...(value as unknown[])] : value
}

export function buildConfig(layers: readonly Layer[], findings: Findings): TsfmConfig {
  const { entries, accepted } = mergeLayers(layers)
  const failed = new Set<string>()
  const values = new Map<string, unknown>()

  const build = (defaults: Record<string, unknown>, schema: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(defaults)) {
      const path = `${prefix}.${key}`
      const node = schema[key]
      if (isRule(node)) {
        const entry = entries.get(path)
        const value = entry === undefined ? defaults[key] : entry.value
        const problem = node.check(value, { path: entry?.shownPath ?? path, source: entry?.source ?? '' })
        if (problem !== null) {
          findings.error('TSFM_CONFIG_INVALID', problem.path, problem.message)
          failed.add(path)
        }
        out[key] = own(value)
        values.set(path, value)
      } else {
        out[key] = build(defaults[key] as Record<string, unknown>, node as Record<string, unknown>, path)
      }
    }
    return out
  }
  const config = build(DEFAULTS as unknown as Record<string, unknown>, SCHEMA as unknown as Record<string, unknown>, 'tsfm') as unknown as TsfmConfig

  for (const rule of CROSS_RULES) {
    if (failed.has(rule.path) || failed.has(rule.other)) continue
    const a = values.get(rule.path) as number
    const b = values.get(rule.other) as number
    if (rule.holds(a, b)) continue
    const at = entries.get(rule.path)
    const shown = at?.shownPath ?? rule.path
    findings.error(
      'TSFM_CONFIG_INVALID',
      shown,
      `${shown}${at?.source ?? ''} must be ${rule.relation} ${entries.get(rule.other)?.shownPath ?? rule.other} (${quote(b)}), got ${quote(a)}`,
    )
  }

  // With no client traffic the recovery rules count only the periodic probes (one per
  // probe_interval_s): each recovery window must hold min_requests of them, or a quiet runner
  // never leaves degraded/baseline-only (SPEC §5: it must recover without client traffic).
  const probe = 'tsfm.degradation.probe_interval_s'
  const min = 'tsfm.degradation.min_requests'
  for (const key of ['baseline_only_exit_window_s', 'degraded_exit_window_s']) {
    const path = `tsfm.degradation.${key}`
    if (failed.has(path) || failed.has(probe) || failed.has(min)) continue
    const window = values.get(path) as number
    const every = values.get(probe) as number
    const need = values.get(min) as number
    if (every > 0 && window / every >= need) continue
    const shown = entries.get(path)?.shownPath ?? path
    findings.error(
      'TSFM_CONFIG_INVALID',
      shown,
      `${shown}${entries.get(path)?.source ?? ''} must hold at least ${min} (${quote(need)}) probes of ${probe} (${quote(every)} s), got ${quote(window)}`,
    )
  }

  for (const [path, entry] of accepted) {
    const spec = ACCEPTED[path.slice('tsfm.'.length)] as AcceptedKey
    const problem = spec.rule.check(entry.value, { path: entry.shownPath, source: entry.source })
    if (problem !== null) findings.error('TSFM_CONFIG_INVALID', problem.path, problem.message)
    else if (findings.errors.length === 0) {
      const advice = spec.advise(entry.value as number, config)
      if (advice !== null) findings.warn(advice)
    }
  }
  return config
}
