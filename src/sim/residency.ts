/**
 * Whether one model is in memory, the way tollama (after ollama) keeps it: the first request
 * loads it (`coldStartMs`), it stays loaded while requests hold it and for `keepAliveMs` after the
 * last one ends (ollama's `keep_alive`, 5 minutes by default), then it is unloaded and the next
 * request pays the load again. Pure: the model gate (model-gate.ts) keeps the state and the clock.
 */

export type Residency =
  /** Never loaded, or unloaded after its keep-alive. */
  | { readonly kind: 'unloaded' }
  /** At least one request holds the model; a load in progress ends at `readyAt`. */
  | { readonly kind: 'held'; readonly readyAt: number }
  /** Loaded and unused since `since`; unloaded from `since + keepAliveMs` on. */
  | { readonly kind: 'idle'; readonly since: number }

export interface ResidencyParams {
  /** The load a cold model costs (ms); 0 turns cold starts off. */
  readonly coldStartMs: number
  /** How long an unused model stays loaded (ms); 0 unloads it after every request. */
  readonly keepAliveMs: number
}

export interface Acquired {
  readonly next: Residency
  /** How long the request waits for the model to load before its own cost starts (ms). */
  readonly loadMs: number
  /** This request started a load (counted in `coldStarts`). */
  readonly cold: boolean
}

export const UNLOADED: Residency = Object.freeze({ kind: 'unloaded' })

/** A request takes the model at `now`. */
export function acquire(r: Residency, now: number, p: ResidencyParams): Acquired {
  switch (r.kind) {
    case 'held':
      // Requests run side by side (not serial): a newcomer waits for a load in progress, and
      // does not load the model a second time.
      return { next: r, loadMs: Math.max(0, r.readyAt - now), cold: false }
    case 'idle':
      // At exactly since + keepAliveMs the model is already gone (keepAliveMs 0: always reload).
      if (now - r.since < p.keepAliveMs) return { next: { kind: 'held', readyAt: now }, loadMs: 0, cold: false }
      return load(now, p.coldStartMs)
    case 'unloaded':
      return load(now, p.coldStartMs)
  }
}

/** A request let the model go at `now`; `holders` still hold it. */
export function release(r: Residency, now: number, holders: number): Residency {
  return holders > 0 ? r : { kind: 'idle', since: now }
}

function load(now: number, coldStartMs: number): Acquired {
  // With cold starts off the model is still "loaded" (for free), so turning them on at run time
  // charges the next load, not the next request.
  return { next: { kind: 'held', readyAt: now + coldStartMs }, loadMs: coldStartMs, cold: coldStartMs > 0 }
}
