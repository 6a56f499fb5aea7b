import { quote } from '../errors.js'
import type { Findings } from './findings.js'
import type { Layer, TextSetting } from './layer.js'
import { readText } from './layer.js'

/**
 * Environment variables, each overriding one key (precedence: defaults < file < env < explicit
 * overrides such as CLI flags). The table is the documentation: the README and `--help` print it.
 *
 * An empty variable counts as unset (`docker run -e TSFM_API_TOKEN=` must not set an empty token).
 */

export interface EnvVar {
  readonly name: string
  /** The key it sets, or null for the two that steer loading itself. */
  readonly path: string | null
  readonly description: string
}

export const ENV_VARS: readonly EnvVar[] = [
  { name: 'TSFM_CONFIG', path: null, description: 'YAML config file to load when --config is not given' },
  { name: 'TSFM_STRICT_CONFIG', path: null, description: 'true/1: unknown config keys are errors (same as --strict-config)' },
  { name: 'TSFM_HOST', path: 'tsfm.server.host', description: 'address the daemon listens on' },
  { name: 'TSFM_PORT', path: 'tsfm.server.port', description: 'port the daemon listens on (0 = any free port)' },
  { name: 'TSFM_TOLLAMA_URL', path: 'tsfm.adapter.base_url', description: 'base URL of the tollama daemon; comma-separated for several replicas' },
  { name: 'TSFM_MODEL', path: 'tsfm.adapter.model', description: 'model used when a request names none' },
  { name: 'TSFM_FORECAST_API_TOKEN', path: 'tsfm.server.api_token', description: "the Python service's name for TSFM_API_TOKEN (TSFM_API_TOKEN wins when both are set)" },
  { name: 'TSFM_API_TOKEN', path: 'tsfm.server.api_token', description: 'token clients must send (Authorization: Bearer or X-API-Key); unset = no auth' },
  { name: 'TSFM_API_TOKENS', path: 'tsfm.server.api_tokens', description: 'more client tokens, comma-separated (rotation)' },
  { name: 'TSFM_METRICS_TOKEN', path: 'tsfm.server.metrics_token', description: 'a token that opens /metrics only; unset = none' },
  { name: 'TSFM_UPSTREAM_TOKEN', path: 'tsfm.adapter.api_token', description: 'bearer token sent to tollama; unset = none' },
  { name: 'TSFM_CONFORMAL_STATE_PATH', path: 'tsfm.conformal.state_path', description: 'conformal state file (JSON); unset = none' },
  { name: 'TSFM_LOG_LEVEL', path: 'tsfm.logging.level', description: 'fatal, error, warn, info, debug, trace or silent' },
]

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v === '' ? undefined : v
}

/** The config file named by TSFM_CONFIG, if any. */
export function envConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  return envValue(env, 'TSFM_CONFIG')
}

/** TSFM_STRICT_CONFIG as a boolean; a value that is not one is an error (it would otherwise hide typos). */
export function envStrict(env: NodeJS.ProcessEnv, findings: Findings): boolean {
  const v = envValue(env, 'TSFM_STRICT_CONFIG')
  if (v === undefined) return false
  const t = v.toLowerCase()
  if (t === 'true' || t === '1' || t === 'yes') return true
  if (t === 'false' || t === '0' || t === 'no') return false
  findings.error('TSFM_CONFIG_INVALID', 'TSFM_STRICT_CONFIG', `TSFM_STRICT_CONFIG must be true, false, 1, 0, yes or no, got ${quote(v)}`)
  return false
}

export function readEnv(env: NodeJS.ProcessEnv, findings: Findings): Layer {
  const settings: TextSetting[] = []
  for (const v of ENV_VARS) {
    const text = envValue(env, v.name)
    if (v.path !== null && text !== undefined) settings.push({ path: v.path, text, source: v.name })
  }
  return readText(settings, findings)
}
