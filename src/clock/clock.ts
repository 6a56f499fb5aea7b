/**
 * Time comes from an injected Clock so that tests advance it by hand (ManualClock) instead of
 * sleeping, and so that deadlines are plain numbers comparable across threads.
 */

/** Opaque timer handle. */
export type TimerHandle = { readonly __timer: unique symbol } | object

export interface Clock {
  /**
   * Milliseconds on the clock shared by every thread of the process:
   * `performance.timeOrigin + performance.now()` for the system clock (epoch-based, monotonic
   * within a thread, comparable between the main thread and the I/O worker).
   */
  now(): number
  /** Calls `fn` once after `ms`. `unref: true` lets the process exit while it is pending. */
  setTimeout(fn: () => void, ms: number, unref?: boolean): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** The shared absolute time of this thread. Exported for code that must not take a Clock (wire). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now()
}

export const systemClock: Clock = Object.freeze({
  now: sharedNow,
  setTimeout(fn: () => void, ms: number, unref = false): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms))
    if (unref) t.unref()
    return t as unknown as TimerHandle
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as unknown as NodeJS.Timeout)
  },
})
