import { resolve } from 'node:path'
import { quote } from '../errors.js'
import { envConfigFile, envStrict, readEnv } from './env.js'
import { Findings } from './findings.js'
import { deepFreeze } from './freeze.js'
import type { Layer, TextSetting } from './layer.js'
import { isMapping, readDocument, readText } from './layer.js'
import { readConfigFile } from './load.js'
import type { ConfigInput, TsfmConfig } from './types.js'
import { buildConfig } from './validate.js'

/**
 * Configuration (SPEC §1): DEFAULTS < YAML file < environment < explicit overrides, validated
 * once, every problem reported together, the result deep-frozen.
 */

export { DEFAULTS } from './defaults.js'
export { ENV_VARS } from './env.js'
export type { EnvVar } from './env.js'
export type { TextSetting } from './layer.js'
export { printConfig } from './print.js'
export type * from './types.js'

export interface ConfigSources {
  /** YAML file; when absent, TSFM_CONFIG names it (if set). */
  file?: string | undefined
  /** Defaults to process.env. Tests pass their own. */
  env?: NodeJS.ProcessEnv
  /** Explicit settings in the file's shape; they win over file and env. */
  overrides?: ConfigInput
  /**
   * Explicit settings as text, e.g. CLI flags: `{ path: 'tsfm.server.port', text: '80x', source: '--port' }`.
   * Parsed like environment variables; applied after `overrides`. Errors name the source.
   */
  textOverrides?: readonly TextSetting[]
  /** Unknown keys are errors. TSFM_STRICT_CONFIG=true turns this on as well. */
  strict?: boolean
}

export interface LoadedConfig {
  readonly config: TsfmConfig
  /** Unknown keys (when not strict), YAML warnings, Python settings we accept but cannot honour. */
  readonly warnings: readonly string[]
  /** Info-level: accepted sections that are ignored (the Python service's `slo`). */
  readonly notes: readonly string[]
  /** Absolute path of the file that was loaded, or null. */
  readonly file: string | null
}

function finish(layers: readonly Layer[], findings: Findings, file: string | null, extraWarnings: readonly string[] = []): LoadedConfig {
  const config = buildConfig(layers, findings)
  findings.throwIfErrors()
  return deepFreeze({
    config,
    warnings: [...extraWarnings, ...findings.warnings],
    notes: [...findings.notes],
    file,
  })
}

function readInput(input: unknown, findings: Findings, layers: Layer[]): void {
  if (input === undefined) return
  if (!isMapping(input)) {
    findings.error('TSFM_CONFIG_INVALID', 'tsfm', `config must be an object like { tsfm: {...} }, got ${quote(input)}`)
    return
  }
  layers.push(readDocument(input, findings))
}

/** File + environment + overrides (the daemon and the CLI). Throws TsfmError. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const env = sources.env ?? process.env
  const findings = new Findings(sources.strict === true)
  if (envStrict(env, findings)) findings.strict = true

  const layers: Layer[] = []
  const named = sources.file ?? envConfigFile(env)
  const file = named === undefined ? null : resolve(named)
  let fileWarnings: readonly string[] = []
  if (file !== null) {
    const parsed = readConfigFile(file, sources.file === undefined ? ' (from TSFM_CONFIG)' : '')
    fileWarnings = parsed.warnings
    layers.push(readDocument(parsed.doc, findings))
  }
  layers.push(readEnv(env, findings))
  readInput(sources.overrides, findings, layers)
  if (sources.textOverrides !== undefined) layers.push(readText(sources.textOverrides, findings))
  return finish(layers, findings, file, fileWarnings)
}

/** The embedding API's path (`createRunner({config})`): the caller's object only, no env, no file. */
export function resolveConfig(input: ConfigInput | undefined, opts: { strict?: boolean } = {}): LoadedConfig {
  const findings = new Findings(opts.strict === true)
  const layers: Layer[] = []
  readInput(input, findings, layers)
  return finish(layers, findings, null)
}
