import { TsfmError, quote } from '../errors.js'
import { FAULT_KINDS, type FaultKind, type ScheduleEntry, type SimFaultRates, type SimOptions } from './types.js'

/** SimOptions with every default filled in, validated once and frozen. */
export interface SimConfig {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly latencyFixedMs: number
  readonly latencyPerSeriesMs: number
  readonly serial: boolean
  readonly coldStartMs: number
  readonly keepAliveMs: number
  readonly models: readonly string[] | null
  readonly spread: number
  readonly faults: Readonly<SimFaultRates>
  readonly schedule: readonly ScheduleEntry[]
  readonly retryAfterS: number
  readonly seed: number
  readonly disableApiRoute: boolean
  readonly slowBodyMs: number
  readonly hangMs: number | null
}

/**
 * Defaults mirror a measured tollama 0.1.0 (mock model, 2 cores): ~42 ms of daemon overhead per
 * request plus ~0.9 ms per series (32 series ≈ 71 ms, 128 series ≈ 240 ms). The mock model loads
 * instantly, so cold starts are off; the keep-alive is ollama's (and tollama's) default, 5 minutes.
 */
export const SIM_DEFAULTS: SimConfig = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  latencyFixedMs: 42,
  latencyPerSeriesMs: 0.9,
  serial: false,
  coldStartMs: 0,
  keepAliveMs: 300_000,
  models: null,
  spread: 0.5,
  faults: Object.freeze({}),
  schedule: Object.freeze([]),
  retryAfterS: 1,
  seed: 1,
  disableApiRoute: false,
  slowBodyMs: 2000,
  hangMs: null,
})

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.keys(SIM_DEFAULTS))
const FAULT_SET: ReadonlySet<string> = new Set(FAULT_KINDS)

function invalid(key: string, rule: string, value: unknown): TsfmError {
  return new TsfmError('TSFM_CONFIG_INVALID', `sim.${key} ${rule}, got ${quote(value)}`, `sim.${key}`)
}

export function checkNonNegative(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(key, 'must be a finite number >= 0', value)
  }
  return value
}

function checkNonNegativeInt(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(key, 'must be an integer >= 0', value)
  }
  return value
}

function checkPort(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw invalid('port', 'must be an integer in 0..65535', value)
  }
  return value
}

function checkBool(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(key, 'must be a boolean', value)
  return value
}

/** The simulator never listens beyond loopback (tests and benchmarks only). */
function checkHost(value: unknown): '127.0.0.1' {
  if (value === '127.0.0.1' || value === 'localhost') return '127.0.0.1'
  throw invalid('host', 'must be "127.0.0.1" or "localhost" (the simulator only listens on loopback)', value)
}

function checkModels(value: unknown): readonly string[] | null {
  if (value === null) return null
  if (!Array.isArray(value) || value.some((m) => typeof m !== 'string' || m.length === 0)) {
    throw invalid('models', 'must be null or an array of non-empty strings', value)
  }
  return Object.freeze([...(value as string[])])
}

export function checkFaultRates(value: unknown, key = 'faults'): Readonly<SimFaultRates> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(key, 'must be an object of fault kind → probability', value)
  }
  const rates: SimFaultRates = {}
  let sum = 0
  for (const [kind, p] of Object.entries(value)) {
    if (!FAULT_SET.has(kind)) throw invalid(`${key}.${kind}`, `is not a fault kind (${FAULT_KINDS.join(', ')})`, kind)
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
      throw invalid(`${key}.${kind}`, 'must be a probability in [0, 1]', p)
    }
    rates[kind as FaultKind] = p
    sum += p
  }
  // One uniform draw picks at most one fault, so the rates share the unit interval.
  if (sum > 1 + 1e-9) throw invalid(key, 'must sum to at most 1', sum)
  return Object.freeze(rates)
}

export function checkSchedule(value: unknown, key = 'schedule'): readonly ScheduleEntry[] {
  if (!Array.isArray(value)) throw invalid(key, 'must be an array of fault kinds or "ok"', value)
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i]
    if (entry !== 'ok' && (typeof entry !== 'string' || !FAULT_SET.has(entry))) {
      throw invalid(`${key}[${i}]`, `must be "ok" or a fault kind (${FAULT_KINDS.join(', ')})`, entry)
    }
  }
  return Object.freeze([...(value as ScheduleEntry[])])
}

/** Fills defaults and validates; every error names the option and quotes the value. */
export function resolveSimConfig(options: SimOptions = {}): SimConfig {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw invalid(key, 'is not a simulator option', key)
  }
  const pick = <K extends keyof SimOptions>(key: K): SimOptions[K] | undefined => options[key]
  const hangMs = pick('hangMs')
  const seed = pick('seed') ?? SIM_DEFAULTS.seed
  if (!Number.isInteger(seed)) throw invalid('seed', 'must be an integer', seed)
  return Object.freeze({
    host: checkHost(pick('host') ?? SIM_DEFAULTS.host),
    port: checkPort(pick('port') ?? SIM_DEFAULTS.port),
    latencyFixedMs: checkNonNegative('latencyFixedMs', pick('latencyFixedMs') ?? SIM_DEFAULTS.latencyFixedMs),
    latencyPerSeriesMs: checkNonNegative('latencyPerSeriesMs', pick('latencyPerSeriesMs') ?? SIM_DEFAULTS.latencyPerSeriesMs),
    serial: checkBool('serial', pick('serial') ?? SIM_DEFAULTS.serial),
    coldStartMs: checkNonNegative('coldStartMs', pick('coldStartMs') ?? SIM_DEFAULTS.coldStartMs),
    keepAliveMs: checkNonNegative('keepAliveMs', pick('keepAliveMs') ?? SIM_DEFAULTS.keepAliveMs),
    models: checkModels(pick('models') === undefined ? SIM_DEFAULTS.models : pick('models')),
    spread: checkNonNegative('spread', pick('spread') ?? SIM_DEFAULTS.spread),
    faults: checkFaultRates(pick('faults') ?? SIM_DEFAULTS.faults),
    schedule: checkSchedule(pick('schedule') ?? SIM_DEFAULTS.schedule),
    retryAfterS: checkNonNegativeInt('retryAfterS', pick('retryAfterS') ?? SIM_DEFAULTS.retryAfterS),
    seed,
    disableApiRoute: checkBool('disableApiRoute', pick('disableApiRoute') ?? SIM_DEFAULTS.disableApiRoute),
    slowBodyMs: checkNonNegative('slowBodyMs', pick('slowBodyMs') ?? SIM_DEFAULTS.slowBodyMs),
    hangMs: hangMs === undefined || hangMs === null ? null : checkNonNegative('hangMs', hangMs),
  })
}
