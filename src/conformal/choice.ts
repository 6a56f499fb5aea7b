import type { ForecastRequest } from '../request/types.js'
import { segmentCandidates } from '../supervisor/routing.js'
import type { ConformalAdjustment } from './adjustment.js'
import type { ConformalState } from './state-file.js'

/** What an answer carries of the conformal state: loaded or not, which segment, which adjustment. */
export interface ConformalChoice {
  readonly loaded: boolean
  /** The segment key as written in the state file; null when the default adjustment applies. */
  readonly key: string | null
  readonly adjustment: ConformalAdjustment | null
}

export const NOT_LOADED: ConformalChoice = Object.freeze({ loaded: false, key: null, adjustment: null })

/**
 * One loaded state, ready for selection. Immutable: a reload builds a new one and swaps the
 * reference, so an answer that read one snapshot can never see a mix of two files.
 *
 * Selection (the Python service's): the first of the seven routing candidate keys of the
 * request (src/supervisor/routing.ts `segmentCandidates`, most specific first) that the file has
 * in `segments`, else the default. Matched without regard to case, as routing is (the Python
 * service compares exactly, so `liquidity_bucket=High` never matched a file's `high`); the key
 * reported is the file's.
 */
export class ConformalSnapshot {
  readonly state: ConformalState
  /** When it was loaded (Clock ms) and from where: shown in `/tsfm/state`. */
  readonly loadedAt: number
  readonly source: string
  readonly #byLowerKey: ReadonlyMap<string, ConformalChoice>
  readonly #default: ConformalChoice

  constructor(state: ConformalState, loadedAt: number, source: string) {
    this.state = state
    this.loadedAt = loadedAt
    this.source = source
    this.#default = Object.freeze({ loaded: true, key: null, adjustment: state.default })
    const m = new Map<string, ConformalChoice>()
    for (const [key, adjustment] of state.segments) {
      const lower = key.toLowerCase()
      // Two keys differing only in case: the first in the file wins, deterministically.
      if (!m.has(lower)) m.set(lower, Object.freeze({ loaded: true, key, adjustment }))
    }
    this.#byLowerKey = m
  }

  choose(req: Pick<ForecastRequest, 'category' | 'liquidity_bucket' | 'tte_bucket'>): ConformalChoice {
    // Without segments (schema 1, the common file), no candidate keys are built at all.
    if (this.#byLowerKey.size === 0) return this.#default
    const keys = segmentCandidates(req)
    for (let i = 0; i < keys.length; i++) {
      const hit = this.#byLowerKey.get((keys[i] as string).toLowerCase())
      if (hit !== undefined) return hit
    }
    return this.#default
  }
}
