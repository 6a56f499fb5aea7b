import type { AdapterConfig } from './types.js'

/** The tollama replicas of `adapter.base_url`, in the order configured (one for a plain string). */
export function baseUrls(adapter: Pick<AdapterConfig, 'base_url'>): readonly string[] {
  return typeof adapter.base_url === 'string' ? [adapter.base_url] : adapter.base_url
}

/** How the replicas are named in logs and `/tsfm/state`: the URLs, comma-separated. */
export function baseUrlText(adapter: Pick<AdapterConfig, 'base_url'>): string {
  return baseUrls(adapter).join(',')
}
