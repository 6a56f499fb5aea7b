import { unwatchFile, watchFile, type Stats } from 'node:fs'
import type { Clock } from '../clock/clock.js'
import type { Logger } from '../log.js'
import type { ForecastRequest } from '../request/types.js'
import type { ConformalStatus } from '../supervisor/state.js'
import { ConformalSnapshot, NOT_LOADED, type ConformalChoice } from './choice.js'
import { ConformalStateError, parseStateText, readStateText, type ConformalState } from './state-file.js'

export interface ConformalStoreOptions {
  /** The state file (`conformal.state_path`); null = no conformal adjustment. */
  readonly path: string | null
  /** Poll the file this often for changes; 0 = only on `reload()` (SIGHUP in the daemon). */
  readonly watchIntervalMs: number
  readonly clock: Clock
  readonly logger: Logger
}

/** What a load or reload did. */
export type ReloadResult =
  | { readonly kind: 'loaded'; readonly segments: number; readonly updatedAt: string | null }
  | { readonly kind: 'kept'; readonly reason: string }
  | { readonly kind: 'none'; readonly reason: string }

/**
 * The conformal state the runner answers with: loaded once at start, reloaded when the file
 * changes (polled: `fs.watchFile` follows the path, so a file replaced by rename — how the
 * Python service's and our own writers should write it — is seen, where `fs.watch` would keep
 * watching the replaced inode) or on `reload()`.
 *
 * Atomic: a reload reads and checks the whole file first, then swaps one reference; every
 * answer reads that reference once (`choose`), so no answer mixes two states. A file that is
 * missing or invalid at start means no adjustment and a warning (the daemon still starts, as
 * the Python service does); at a reload it keeps the state in use and warns — a half-written or
 * mistaken edit must not silently switch calibration off for every market.
 */
export class ConformalStore {
  readonly #o: ConformalStoreOptions
  #snapshot: ConformalSnapshot | null = null
  #watching = false
  #reloading: Promise<ReloadResult> | null = null
  #again = false
  /**
   * The texts this process last wrote to the file itself: its own writes are not reloads. A few,
   * not one: a check of the file can read the write before last while the next one is on its way.
   */
  readonly #ownTexts: string[] = []
  /** The file's text as last loaded or written here (null before either). */
  #lastText: string | null = null
  /** Listeners for a state that changed (the online calibrator re-bases on it). */
  readonly #onChange: Array<(s: ConformalState) => void> = []

  constructor(o: ConformalStoreOptions) {
    this.#o = o
  }

  get path(): string | null {
    return this.#o.path
  }

  /** The snapshot in use, or null when none is loaded. */
  get snapshot(): ConformalSnapshot | null {
    return this.#snapshot
  }

  /** The conformal choice for one answer (one read of the current snapshot). */
  choose(req: Pick<ForecastRequest, 'category' | 'liquidity_bucket' | 'tte_bucket'>): ConformalChoice {
    const s = this.#snapshot
    return s === null ? NOT_LOADED : s.choose(req)
  }

  /** The next read finding exactly `text` is this process's own write: nothing to reload. */
  noteOwnWrite(text: string): void {
    this.#ownTexts.push(text)
    if (this.#ownTexts.length > OWN_TEXTS) this.#ownTexts.shift()
    this.#lastText = text
  }

  /** `text` is what the file held when last loaded or written here, or one of this process's writes. */
  knows(text: string): boolean {
    return text === this.#lastText || this.#ownTexts.includes(text)
  }

  onChange(fn: (s: ConformalState) => void): void {
    this.#onChange.push(fn)
  }

  /** Install a state built in memory (the online calibrator's), as a reload would. */
  replace(state: ConformalState, source: string): void {
    this.#snapshot = new ConformalSnapshot(state, this.#o.clock.now(), source)
  }

  /** The first load; then watch the file if asked to. */
  async start(): Promise<ReloadResult> {
    const r = await this.reload()
    if (this.#o.path !== null && this.#o.watchIntervalMs > 0 && !this.#watching) {
      this.#watching = true
      // persistent: false — a watched file must never keep a process alive.
      watchFile(this.#o.path, { interval: this.#o.watchIntervalMs, persistent: false }, this.#changed)
    }
    return r
  }

  /** Read the file again now. Concurrent calls share one read (and one more if asked during it). */
  reload(): Promise<ReloadResult> {
    if (this.#reloading !== null) {
      this.#again = true
      return this.#reloading
    }
    this.#reloading = this.#load()
      .catch((e: unknown): ReloadResult => {
        // A listener's error (the online calibrator re-basing): never an unhandled rejection.
        this.#o.logger.error({ event: 'conformal_reload_failed', err: e }, 'conformal state reload failed')
        return { kind: 'kept', reason: String(e) }
      })
      .finally(() => {
        this.#reloading = null
        if (this.#again) {
          this.#again = false
          void this.reload()
        }
      })
    return this.#reloading
  }

  status(): ConformalStatus {
    const s = this.#snapshot
    if (s === null) return { state_path: this.#o.path, loaded: false, updated_at: null, schema_version: null, segments: 0, loaded_at: null }
    return { state_path: this.#o.path, loaded: true, updated_at: s.state.updatedAt, schema_version: s.state.schemaVersion, segments: s.state.segments.size, loaded_at: s.loadedAt }
  }

  close(): void {
    if (this.#watching && this.#o.path !== null) unwatchFile(this.#o.path, this.#changed)
    this.#watching = false
  }

  readonly #changed = (cur: Stats, prev: Stats): void => {
    // watchFile calls on any stat change (atime too on some systems): only content matters.
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return
    void this.reload()
  }

  async #load(): Promise<ReloadResult> {
    const path = this.#o.path
    const log = this.#o.logger
    if (path === null) return { kind: 'none', reason: 'conformal.state_path is not set' }
    let state: ConformalState
    try {
      const text = await readStateText(path)
      // The online calibrator writes what it learned here; re-reading that would re-base it on
      // itself and drop its working level and windows.
      if (this.#ownTexts.includes(text)) return { kind: 'kept', reason: 'the file holds what this process wrote' }
      state = parseStateText(text, path)
      this.#lastText = text
    } catch (e) {
      const why = e instanceof ConformalStateError ? e.message : String(e)
      if (this.#snapshot === null) {
        log.warn({ event: 'conformal_state_not_loaded', path, err: why }, `conformal state not loaded (${why}); answers carry no conformal adjustment (conformal_last_step null) until the file is fixed`)
        return { kind: 'none', reason: why }
      }
      log.warn({ event: 'conformal_state_kept', path, err: why }, `conformal state not reloaded (${why}); the state loaded before stays in use`)
      return { kind: 'kept', reason: why }
    }
    this.#snapshot = new ConformalSnapshot(state, this.#o.clock.now(), path)
    log.info({ event: 'conformal_state_loaded', path, segments: state.segments.size, updated_at: state.updatedAt, schema_version: state.schemaVersion }, 'conformal state loaded')
    for (const fn of this.#onChange) fn(state)
    return { kind: 'loaded', segments: state.segments.size, updatedAt: state.updatedAt }
  }
}

const OWN_TEXTS = 4
