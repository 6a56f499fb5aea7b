import type { AdapterConfig } from './config/types.js'
import type { Logger } from './log.js'
import { baseUrlText } from './config/base-urls.js'

/**
 * The start-up check of the configured models against tollama's installed ones (`GET /api/tags`).
 * A model that is not installed is not an outage — every request for it is answered from the
 * baseline as `upstream_model_missing`, and the breaker does not count it — so nothing else says
 * so loudly: this warning is where an operator learns that `adapter.model` names a model the
 * daemon does not have (the reliability issue: the README's example named `chronos2` on a
 * machine with only `mock`).
 */

/** The configured models: the default model and the warm-up list, once each. */
export function configuredModels(adapter: AdapterConfig): string[] {
  return [...new Set([adapter.model, ...adapter.warmup.models])]
}

/** tollama lists `name:tag`; a configured `chronos2` is installed as `chronos2:latest` too. */
export function isInstalled(model: string, installed: readonly string[]): boolean {
  for (const name of installed) {
    if (name === model) return true
    const colon = name.indexOf(':')
    if (colon > 0 && name.slice(0, colon) === model && !model.includes(':')) return true
  }
  return false
}

/** The configured models missing from `installed` (null: tollama could not be asked). */
export function missingModels(adapter: AdapterConfig, installed: readonly string[]): string[] {
  return configuredModels(adapter).filter((m) => !isInstalled(m, installed))
}

/** Ask once and log what was found: a warning per missing model, or that tollama did not answer. */
export async function checkModels(adapter: AdapterConfig, installedModels: () => Promise<string[] | null>, log: Logger): Promise<void> {
  const installed = await installedModels()
  if (installed === null) {
    log.warn(
      { event: 'models_unchecked', upstream: baseUrlText(adapter) },
      `tollama at ${baseUrlText(adapter)} did not answer GET /api/tags; the configured models could not be checked (forecasts are answered from the baseline until it does)`,
    )
    return
  }
  for (const model of missingModels(adapter, installed)) {
    log.warn(
      { event: 'model_missing', model, installed, upstream: baseUrlText(adapter) },
      `model '${model}' is not installed in tollama at ${baseUrlText(adapter)} (installed: ${installed.length === 0 ? 'none' : installed.join(', ')}); requests for it are answered from the baseline as upstream_model_missing — run \`tollama pull ${model}\` or set adapter.model (TSFM_MODEL)`,
    )
  }
}
