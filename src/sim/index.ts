/**
 * The tollama simulator: a test and benchmark tool (`tsfm-runner sim-upstream`), never a
 * forecaster. See docs/sim-upstream.md.
 */
export { startSimulator } from './server.js'
export { parseSimArgs, SIM_USAGE, type SimArgs } from './options.js'
export { SIM_DEFAULTS, resolveSimConfig, type SimConfig } from './config.js'
export { BATCH_SIZES_CAP } from './stats.js'
export { MAX_MODEL_LANES, OVERFLOW_LANE } from './model-lanes.js'
export {
  FAULT_KINDS,
  type FaultKind,
  type ScheduleEntry,
  type SimFaultRates,
  type SimFaultUpdate,
  type SimLatencyUpdate,
  type SimModelStats,
  type SimOptions,
  type SimStats,
  type Simulator,
} from './types.js'
