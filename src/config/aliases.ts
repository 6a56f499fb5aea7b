import type { Rule } from './schema.js'
import { num } from './schema.js'
import type { TsfmConfig } from './types.js'

/**
 * The Python service's `configs/tsfm_runtime.yaml` layout, mapped onto ours. Both layouts keep
 * every setting under `tsfm:`; most keys are the same, these are not. Paths are relative to
 * `tsfm.`.
 */

/** A Python key with one of our keys as its meaning. Giving both with different values is an error. */
export interface RenameAlias {
  readonly kind: 'rename'
  readonly to: string
}

/** A Python key that stands for several of ours; each is set unless given explicitly beside it. */
export interface FillAlias {
  readonly kind: 'fill'
  readonly to: readonly string[]
}

export type Alias = RenameAlias | FillAlias

export const ALIASES: Readonly<Record<string, Alias>> = {
  'circuit_breaker.half_open_probe_requests': { kind: 'rename', to: 'circuit_breaker.half_open_probes' },
  // Older Python versions.
  'circuit_breaker.failures': { kind: 'rename', to: 'circuit_breaker.failures_to_open' },
  // Python has one window for both entry rules; we have one per rule (SPEC §5).
  'degradation.window_s': { kind: 'fill', to: ['degradation.degraded_enter_window_s', 'degradation.baseline_only_enter_window_s'] },
}

/**
 * A Python key we accept and check but do not use as a setting; `advise` returns a warning when
 * the value asks for behaviour we do not have.
 */
export interface AcceptedKey {
  readonly rule: Rule
  readonly advise: (value: number, config: TsfmConfig) => string | null
}

export const ACCEPTED: Readonly<Record<string, AcceptedKey>> = {
  'circuit_breaker.half_open_successes_to_close': {
    rule: num({ min: 0, minExclusive: true, integer: true }),
    advise: (value, config) =>
      value === config.circuit_breaker.half_open_probes
        ? null
        : `tsfm.circuit_breaker.half_open_successes_to_close (${value}) differs from ` +
          `tsfm.circuit_breaker.half_open_probes (${config.circuit_breaker.half_open_probes}); ` +
          'it is ignored: the breaker closes only when every probe succeeds (SPEC §5)',
  },
}

/** Whole sections of the Python layout we accept and ignore, with the info note saying why. */
export const IGNORED_SECTIONS: Readonly<Record<string, string>> = {
  slo:
    'tsfm.slo is accepted for compatibility with the Python service and ignored: ' +
    'latency objectives are measured (/metrics, perf/), not configured',
}
