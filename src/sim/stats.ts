import type { IncomingHttpHeaders } from 'node:http'
import type { LanesSummary } from './model-lanes.js'
import type { SimRequestIds, SimStats } from './types.js'

/** Entries kept in `SimStats.batchSizes` (first ones since the last reset): memory stays bounded. */
export const BATCH_SIZES_CAP = 10_000
/** Forecast requests whose id headers `SimStats.requestIds` keeps (the last ones). */
export const REQUEST_IDS_KEPT = 256

/**
 * Counters behind `Simulator.stats()`; control routes (`/_sim/*`) never touch them. The model
 * counters (concurrency, cold starts, per model) live with the model gates (model-lanes.ts).
 */
export class SimStatsCollector {
  requests = 0
  forecastRequests = 0
  seriesTotal = 0
  readonly byRoute = new Map<string, number>()
  readonly faults = new Map<string, number>()
  /** Sockets accepted since the last reset. */
  connections = 0
  /** A gauge: survives resets. */
  openConnections = 0
  batchSizes: number[] = []
  /** A ring of the last REQUEST_IDS_KEPT entries; `idsNext` is where the next one goes. */
  ids: SimRequestIds[] = []
  idsNext = 0

  route(key: string): void {
    this.byRoute.set(key, (this.byRoute.get(key) ?? 0) + 1)
  }

  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1)
  }

  batch(series: number): void {
    this.seriesTotal += series
    if (this.batchSizes.length < BATCH_SIZES_CAP) this.batchSizes.push(series)
  }

  requestIds(headers: IncomingHttpHeaders): void {
    const id = headers['x-request-id']
    const members = headers['x-tsfm-request-ids']
    const entry: SimRequestIds = { id: typeof id === 'string' ? id : null, members: typeof members === 'string' ? members : null }
    if (this.ids.length < REQUEST_IDS_KEPT) this.ids.push(entry)
    else this.ids[this.idsNext] = entry
    this.idsNext = (this.idsNext + 1) % REQUEST_IDS_KEPT
  }

  reset(): void {
    this.requests = 0
    this.forecastRequests = 0
    this.seriesTotal = 0
    this.byRoute.clear()
    this.faults.clear()
    this.connections = 0
    this.batchSizes = []
    this.ids = []
    this.idsNext = 0
  }

  snapshot(models: LanesSummary): SimStats {
    return {
      requests: this.requests,
      forecastRequests: this.forecastRequests,
      seriesTotal: this.seriesTotal,
      byRoute: Object.fromEntries(this.byRoute),
      faults: Object.fromEntries(this.faults),
      maxConcurrent: models.maxConcurrent,
      coldStarts: models.coldStarts,
      byModel: models.byModel,
      connections: this.connections,
      openConnections: this.openConnections,
      batchSizes: [...this.batchSizes],
      requestIds: this.ids.length < REQUEST_IDS_KEPT ? [...this.ids] : [...this.ids.slice(this.idsNext), ...this.ids.slice(0, this.idsNext)],
    }
  }
}
