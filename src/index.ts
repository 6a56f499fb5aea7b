/**
 * tsfm-runner's public API (SPEC §9): `createRunner` and the types a trading process needs.
 * The tollama simulator, a test and benchmark tool, is exported separately as `tsfm-runner/sim`,
 * and the HTTP server as `tsfm-runner/http` (so that this entry never loads fastify).
 */
export { createRunner, Runner } from './runner.js'
export type { RunnerOptions, ForecastOptions, CycleRunOptions, CycleRun } from './runner.js'
export type { ForecastResponse, ForecastMeta, BreakerStateName, ModeName, RuntimeName } from './response.js'
export type { ForecastRequest } from './request/types.js'
export type { CycleItem, CycleSummary } from './supervisor/cycle.js'
export type { RunnerState } from './supervisor/state.js'
export type { BreakerTransition } from './supervisor/breaker.js'
export type { ModeTransition } from './supervisor/mode.js'
export type { LaneBreakerTransition, LaneModeTransition } from './supervisor/lane-health.js'
export type { FallbackReason } from './reasons.js'
export { FIXED_REASONS } from './reasons.js'
export { TsfmError, ERRORS } from './errors.js'
export type { ErrorCode } from './errors.js'
export { loadConfig, resolveConfig, printConfig, DEFAULTS, ENV_VARS } from './config/index.js'
export type { TsfmConfig, ConfigInput } from './config/types.js'
export { Metrics } from './metrics/metrics.js'
export { systemClock } from './clock/clock.js'
export type { Clock } from './clock/clock.js'
export { ManualClock } from './clock/manual-clock.js'
export { validateForecastRequest, defaultsFromConfig } from './request/validate.js'
