import type { Clock, TimerHandle } from '../clock/clock.js'
import type { ConformalConfig } from '../config/types.js'
import type { Logger } from '../log.js'
import type { Outcome } from '../request/outcomes.js'
import type { ForecastRequest } from '../request/types.js'
import type { ForecastResponse } from '../response.js'
import type { ConformalStatus } from '../supervisor/state.js'
import type { ConformalAdjustment } from './adjustment.js'
import { adjustedHigh, adjustedLow } from './adjusted-bounds.js'
import type { ConformalChoice } from './choice.js'
import { CoverageWindow, type CoverageReading } from './coverage-window.js'
import { OnlineCalibrator } from './online.js'
import { ServedBands } from './served-bands.js'
import { encodeState, readStateText, writeFileAtomic, type ConformalState } from './state-file.js'
import type { ConformalStore } from './store.js'

/** What one batch of outcomes did (the answer of `POST /tsfm/outcomes` and `runner.observe`). */
export interface ObserveResult {
  readonly received: number
  /** Matched to a band this runner served, and learned from. */
  readonly matched: number
  /** No band held for (market_id, as_of_ts): never served here, already resolved, or expired. */
  readonly unmatched: number
  /** The band it names does not resolve yet (as_of_ts + horizon × freq is later than now). */
  readonly early: number
}

/** Counters by outcome result, for `tsfm_conformal_outcomes_total{result}`. */
export interface OutcomeCounters {
  matched: number
  unmatched: number
  early: number
}

/** A resolved outcome may arrive this much before its band's resolution time (clock skew). */
const EARLY_SKEW_MS = 60_000

/**
 * Conformal calibration as the runner uses it: the state file (ConformalStore) and, when
 * `conformal.online.enabled`, the online part — the bands served (ServedBands), the
 * calibrator that learns from their outcomes (OnlineCalibrator), the realised coverage per
 * segment (CoverageWindow) and the periodic write of what was learned to the state file.
 *
 * The supervisor asks it for each answer's adjustment (`choose`) and tells it what it answered
 * (`served`); both run on the supervisor's turn, as does `observe`, so the calibrator is only
 * ever touched from the main thread and an answer reads one adjustment object.
 */
export class Calibration {
  readonly #store: ConformalStore
  readonly #cfg: ConformalConfig
  readonly #clock: Clock
  readonly #log: Logger
  #calibrator: OnlineCalibrator | null = null
  readonly #bands: ServedBands | null
  readonly #coverage: CoverageWindow | null
  /** Per segment key: the choice object of the calibrator's current adjustment (no allocation per answer). */
  readonly #choices = new Map<string | null, ConformalChoice>()
  readonly counters: OutcomeCounters = { matched: 0, unmatched: 0, early: 0 }
  #writtenVersion = 0
  /** Bumped on every re-base: a write begun for an earlier calibrator must not count for this one. */
  #generation = 0
  #timer: TimerHandle | null = null
  #writing: Promise<void> | null = null
  #closed = false

  constructor(store: ConformalStore, cfg: ConformalConfig, clock: Clock, log: Logger) {
    this.#store = store
    this.#cfg = cfg
    this.#clock = clock
    this.#log = log
    const on = cfg.online
    this.#bands = on.enabled ? new ServedBands({ maxEntries: on.max_pending, graceMs: on.outcome_grace_s * 1000 }) : null
    this.#coverage = on.enabled ? new CoverageWindow({ window: on.window }) : null
  }

  get online(): boolean {
    return this.#bands !== null
  }

  /** After the store's first load: the calibrator starts from the file, or from no adjustment. */
  start(): void {
    if (!this.online) return
    const snap = this.#store.snapshot
    this.#rebase(snap === null ? this.#identity() : snap.state)
    // A file changed by someone else (an offline refit) replaces what was learned.
    this.#store.onChange((s) => this.#rebase(s))
    if (this.#store.path === null) {
      this.#log.warn({ event: 'conformal_online_not_persisted' }, 'conformal.online is enabled without conformal.state_path: what it learns is lost at restart')
    } else this.#schedule()
  }

  choose(req: ForecastRequest): ConformalChoice {
    const base = this.#store.choose(req)
    const cal = this.#calibrator
    if (cal === null) return base
    const adjustment = cal.adjustmentFor(base.key)
    if (adjustment === base.adjustment) return base
    const kept = this.#choices.get(base.key)
    if (kept !== undefined && kept.adjustment === adjustment) return kept
    const c: ConformalChoice = Object.freeze({ loaded: true, key: base.key, adjustment })
    this.#choices.set(base.key, c)
    return c
  }

  /** An answer was delivered: remember its raw last-step band for the outcome to come. */
  served(req: ForecastRequest, response: ForecastResponse): void {
    const bands = this.#bands
    const cal = this.#calibrator
    if (bands === null || cal === null || response.conformal_last_step === null) return
    const paths = response.yhat_q
    const q = req.quantiles
    const at = req.horizon_steps - 1
    const low = (paths[String(q[0])] as readonly number[])[at] as number
    const high = (paths[String(q[q.length - 1])] as readonly number[])[at] as number
    const mid = paths['0.5']
    const key = response.meta.conformal_segment_key
    const applied: ConformalAdjustment = cal.adjustmentFor(key)
    const resolvesAt = req.as_of_ms + req.horizon_steps * req.step_ms
    bands.record(req.market_id, asOfKey(req.as_of_ms), resolvesAt, key, low, mid === undefined ? null : (mid[at] as number), high, applied, this.#clock.now(), req.horizon_steps)
  }

  /** Learn from a batch of resolved outcomes (validated). */
  observe(outcomes: readonly Outcome[]): ObserveResult {
    const bands = this.#bands
    const cal = this.#calibrator
    const coverage = this.#coverage
    if (bands === null || cal === null || coverage === null) return { received: outcomes.length, matched: 0, unmatched: outcomes.length, early: 0 }
    const now = this.#clock.now()
    let matched = 0
    let early = 0
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i] as Outcome
      const asOf = asOfKey(o.as_of_ms)
      // An outcome of another horizon than the band's (the latest served for this market and
      // as_of_ts) is not its outcome: unmatched, and the band stays.
      if (o.steps !== 0) {
        const h = bands.horizonOf(o.market_id, asOf)
        if (h > 0 && h !== o.steps) continue
      }
      // Realised before its horizon ended: not the value the band forecast. Left in place for
      // the real one (counted, not an error: a client's clock or a market closing early).
      if (bands.resolvesAtOf(o.market_id, asOf) > now + EARLY_SKEW_MS) {
        early++
        continue
      }
      const b = bands.take(o.market_id, asOf, now)
      if (b === null) continue
      matched++
      coverage.add(b.segmentKey, adjustedLow(b.low, b.center, b.high, b.applied), adjustedHigh(b.low, b.center, b.high, b.applied), o.realized)
      cal.observe(b.segmentKey, b.low, b.center, b.high, o.realized)
    }
    const unmatched = outcomes.length - matched - early
    this.counters.matched += matched
    this.counters.unmatched += unmatched
    this.counters.early += early
    return { received: outcomes.length, matched, unmatched, early }
  }

  /** Realised coverage and width per segment over the last `window` outcomes (for scrapes). */
  readings(): CoverageReading[] {
    return this.#coverage?.readings() ?? []
  }

  /** Served bands waiting for their outcome. */
  get pending(): number {
    return this.#bands?.size ?? 0
  }

  status(): ConformalStatus {
    const s = this.#store.status()
    if (this.#calibrator === null) return s
    return { ...s, loaded: true, online: { observed: this.#calibrator.observed, pending: this.pending, ...this.counters } }
  }

  /** Write what was learned now, if it changed since the last write. */
  persist(): Promise<void> {
    const path = this.#store.path
    const cal = this.#calibrator
    if (path === null || cal === null || cal.version === this.#writtenVersion) return this.#writing ?? Promise.resolve()
    if (this.#writing !== null) return this.#writing
    this.#writing = this.#write(path, cal, this.#generation).then(
      () => {
        this.#writing = null
      },
      (e: unknown) => {
        this.#writing = null
        this.#log.error({ event: 'conformal_state_write_failed', path, err: e }, 'could not write the learned conformal state; will try again')
      },
    )
    return this.#writing
  }

  async #write(path: string, cal: OnlineCalibrator, generation: number): Promise<void> {
    // Someone else wrote the file since this process last read or wrote it (a refit): theirs
    // wins — it is loaded and learning restarts from it — rather than being overwritten unseen
    // in the watcher's interval. (One writer per file: replicas should not share a state_path
    // with online learning on.)
    const current = await readStateText(path).catch(() => null)
    if (current !== null && !this.#store.knows(current)) {
      await this.#store.reload()
      return
    }
    if (generation !== this.#generation) return
    const version = cal.version
    const text = encodeState(cal.snapshot(), new Date(this.#clock.now()).toISOString())
    this.#store.noteOwnWrite(text)
    await writeFileAtomic(path, text)
    if (generation === this.#generation) this.#writtenVersion = version
  }

  /** Stop the periodic write and write once more (the daemon's drain). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
    await this.#writing
    await this.persist()
    this.#store.close()
  }

  #schedule(): void {
    if (this.#closed) return
    this.#timer = this.#clock.setTimeout(
      () => {
        void this.persist().finally(() => this.#schedule())
      },
      this.#cfg.online.persist_interval_s * 1000,
      true,
    )
  }

  #rebase(state: ConformalState): void {
    const on = this.#cfg.online
    this.#calibrator = new OnlineCalibrator(state, {
      gamma: on.gamma,
      window: on.window,
      minSamples: on.min_samples,
      minScale: on.min_width_scale,
      maxScale: on.max_width_scale,
      maxShift: on.max_center_shift,
    })
    this.#writtenVersion = 0
    this.#generation++
    this.#choices.clear()
  }

  /** With no state file: the raw band (no shift, scale 1) at the configured coverage, learned from there. */
  #identity(): ConformalState {
    const t = this.#cfg.online.target_coverage
    return Object.freeze({
      default: Object.freeze({ target_coverage: t, quantile_level: t, center_shift: 0, width_scale: 1, sample_size: 0 }),
      segments: new Map(),
      segmentFields: [],
      updatedAt: null,
      metadata: Object.freeze({ source: 'tsfm-runner online calibration (no state file at start)' }),
      schemaVersion: 1,
    })
  }
}

/** Served bands and outcomes meet on the forecast's `as_of_ts` as epoch ms: "…Z", "…+00:00" and epoch seconds alike. */
function asOfKey(ms: number): string {
  return String(ms)
}
