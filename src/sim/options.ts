import { TsfmError, quote } from '../errors.js'
import type { FaultKind, ScheduleEntry, SimFaultRates, SimOptions } from './types.js'

/**
 * `tsfm-runner sim-upstream` argv → SimOptions. Syntax errors name the flag here; ranges are
 * checked once by resolveSimConfig (config.ts) when the simulator starts, except for `ms` flags,
 * whose sign is checked here too so the message names the flag.
 */

export type SimArgs = { readonly help: true } | { readonly help: false; readonly options: SimOptions }

type Kind = 'int' | 'number' | 'ms' | 'string' | 'flag' | 'list' | 'rates'

const FLAGS: Readonly<Record<string, readonly [keyof SimOptions | 'help', Kind]>> = {
  '--port': ['port', 'int'],
  '--host': ['host', 'string'],
  '--latency-fixed': ['latencyFixedMs', 'number'],
  '--latency-per-series': ['latencyPerSeriesMs', 'number'],
  '--serial': ['serial', 'flag'],
  '--cold-start': ['coldStartMs', 'ms'],
  '--keep-alive': ['keepAliveMs', 'ms'],
  '--models': ['models', 'list'],
  '--spread': ['spread', 'number'],
  '--faults': ['faults', 'rates'],
  '--schedule': ['schedule', 'list'],
  '--retry-after': ['retryAfterS', 'int'],
  '--seed': ['seed', 'int'],
  '--no-api-route': ['disableApiRoute', 'flag'],
  '--slow-body-ms': ['slowBodyMs', 'number'],
  '--hang-ms': ['hangMs', 'number'],
  '--help': ['help', 'flag'],
  '-h': ['help', 'flag'],
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

function bad(flag: string, rule: string, value: unknown): TsfmError {
  return new TsfmError('TSFM_CONFIG_INVALID', `${flag} ${rule}, got ${quote(value)}`, flag)
}

function parseNumber(flag: string, text: string, integer: boolean): number {
  const n = NUMBER_RE.test(text) ? Number(text) : Number.NaN
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw bad(flag, integer ? 'must be an integer' : 'must be a number', text)
  }
  return n
}

/** A duration: a finite number of milliseconds >= 0. */
function parseMs(flag: string, text: string): number {
  const n = NUMBER_RE.test(text) ? Number(text) : Number.NaN
  if (!Number.isFinite(n) || n < 0) throw bad(flag, 'must be a number of milliseconds >= 0', text)
  return n
}

function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** `hang=0.2,http_503=0.1` → `{hang: 0.2, http_503: 0.1}`. */
function parseRates(flag: string, text: string): SimFaultRates {
  const rates: Record<string, number> = {}
  for (const item of parseList(text)) {
    const eq = item.indexOf('=')
    if (eq <= 0) throw bad(flag, 'must be a list of kind=probability', item)
    rates[item.slice(0, eq).trim()] = parseNumber(flag, item.slice(eq + 1).trim(), false)
  }
  return rates as SimFaultRates
}

export function parseSimArgs(argv: readonly string[]): SimArgs {
  const options: Record<string, unknown> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    const spec = FLAGS[flag]
    if (spec === undefined) throw new TsfmError('TSFM_CONFIG_INVALID', `unknown option ${quote(arg)} (see --help)`, arg)
    const [key, kind] = spec
    if (kind === 'flag') {
      if (eq !== -1) throw bad(flag, 'takes no value', arg.slice(eq + 1))
      if (key === 'help') return { help: true }
      options[key] = true
      continue
    }
    let value: string
    if (eq !== -1) value = arg.slice(eq + 1)
    else {
      const next = argv[i + 1]
      if (next === undefined) throw bad(flag, 'needs a value', null)
      value = next
      i++
    }
    switch (kind) {
      case 'int':
        options[key] = parseNumber(flag, value, true)
        break
      case 'number':
        options[key] = parseNumber(flag, value, false)
        break
      case 'ms':
        options[key] = parseMs(flag, value)
        break
      case 'string':
        options[key] = value
        break
      case 'list':
        options[key] = key === 'schedule' ? (parseList(value) as (ScheduleEntry | FaultKind)[]) : parseList(value)
        break
      case 'rates':
        options[key] = parseRates(flag, value)
        break
    }
  }
  return { help: false, options: options as SimOptions }
}

export const SIM_USAGE = `Usage: tsfm-runner sim-upstream [options]

A tollama simulator for tests and benchmarks. It is NOT a forecaster: its "forecast" repeats
the last target value with a fixed quantile band. It speaks tollama's HTTP API
(/api/forecast streaming and not, /v1/forecast, /api/version, /v1/health, /health/live,
/api/tags, FastAPI-shaped 400/404/405 bodies) and listens on 127.0.0.1 only.

Options:
  --port P                  port (default 0: ephemeral; the first stdout line tells)
  --host H                  127.0.0.1 (default) or localhost; nothing else is accepted
  --latency-fixed MS        fixed cost of one forecast request (default 42)
  --latency-per-series MS   cost per series (default 0.9)
  --serial                  each model serves one forecast request at a time, FIFO; different
                            models run in parallel (like tollama's runner per model family)
  --cold-start MS           load time of a cold model: its first request, and the first after
                            --keep-alive idle, holds it MS longer (timing.model_load_ms;
                            default 0: off)
  --keep-alive MS           how long an unused model stays loaded (default 300000: ollama's 5 min)
  --models a,b              installed models (default: any name is accepted)
  --spread X                logit offset per unit z of the quantile band (default 0.5)
  --faults k=p,...          fault probabilities per forecast request, e.g. hang=0.2,http_503=0.1
  --schedule k,ok,...       faults consumed one per forecast request before the rates apply
  --retry-after S           Retry-After of an http_429 (default 1)
  --seed N                  PRNG seed of the fault rates (default 1)
  --no-api-route            /api/forecast answers a route 404 (endpoint switching tests)
  --slow-body-ms MS         slow_body: time to trickle the body (default 2000)
  --hang-ms MS              hang: answer after MS instead of never
  -h, --help                this text

Fault kinds: hang http_500 http_502 http_503 http_504 http_429 reset slow_body invalid_json
             html nan missing_series wrong_ids route_404 model_404

Control routes: GET /_sim/stats, POST /_sim/reset, POST /_sim/faults {faults?, schedule?},
                POST /_sim/latency {fixedMs?, perSeriesMs?, coldStartMs?, keepAliveMs?}
`
