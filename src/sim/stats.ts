import type { LanesSummary } from './model-lanes.js'
import type { SimStats } from './types.js'

/** Entries kept in `SimStats.batchSizes` (first ones since the last reset): memory stays bounded. */
export const BATCH_SIZES_CAP = 10_000

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

  reset(): void {
    this.requests = 0
    this.forecastRequests = 0
    this.seriesTotal = 0
    this.byRoute.clear()
    this.faults.clear()
    this.connections = 0
    this.batchSizes = []
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
    }
  }
}
