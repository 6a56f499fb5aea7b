import { sharedNow } from '../../../src/clock/clock.js'
import { DEFAULTS } from '../../../src/config/defaults.js'
import type { AdapterConfig } from '../../../src/config/types.js'
import { UpstreamActor, type UpstreamActorOptions } from '../../../src/io/host/io-host.js'
import type { UpstreamJob, UpstreamOutcome, UpstreamRequestRecord } from '../../../src/io/types.js'
import { makeJob } from '../../helpers/upstream-jobs.js'

/**
 * The I/O actor — real worker thread, real undici pool — wired to collect outcomes with the
 * shared-clock time each one reached the sink, so tests can check it arrived before its deadline.
 */
export interface Arrival {
  readonly outcome: UpstreamOutcome
  readonly at: number
}

/** Short timeouts so a fault test takes well under a second: 300 ms attempts, no jitter. */
export const FAST: Partial<AdapterConfig> = {
  timeout_s: 0.3,
  retry_count: 1,
  retry_backoff_ms: 20,
  retry_jitter_ms: 0,
  health_interval_s: 0,
  // No warm-up request: tests count what reaches the upstream (and it would take a scheduled fault).
  warmup: { ...DEFAULTS.adapter.warmup, enabled: false },
}

export class Harness {
  readonly actor: UpstreamActor
  readonly arrivals = new Map<number, Arrival>()
  readonly records: UpstreamRequestRecord[] = []
  /** Tickets answered more than once (must stay empty). */
  readonly duplicates: number[] = []
  #waiters: (() => void)[] = []

  private constructor(actor: UpstreamActor) {
    this.actor = actor
  }

  static async start(baseUrl: string | readonly string[], adapter: Partial<AdapterConfig> = {}, extra: Partial<UpstreamActorOptions> = {}): Promise<Harness> {
    let h: Harness | null = null
    const early: UpstreamOutcome[] = []
    const actor = await UpstreamActor.start({
      adapter: { ...DEFAULTS.adapter, ...FAST, ...adapter, base_url: baseUrl },
      sink: (o) => (h === null ? early.push(o) : h.onOutcome(o)),
      onRecord: (r) => h?.records.push(r),
      ...extra,
    })
    h = new Harness(actor)
    for (const o of early) h.onOutcome(o)
    return h
  }

  onOutcome(o: UpstreamOutcome): void {
    if (this.arrivals.has(o.ticket)) this.duplicates.push(o.ticket)
    this.arrivals.set(o.ticket, { outcome: o, at: sharedNow() })
    for (const w of this.#waiters) w()
  }

  /** Submits jobs (in one turn, so they can share a request) built from `overrides`. */
  submit(...overrides: Partial<UpstreamJob>[]): UpstreamJob[] {
    const now = sharedNow()
    const jobs = overrides.map((o) => makeJob(o, now))
    for (const j of jobs) this.actor.submit(j)
    return jobs
  }

  /** Resolves with the arrivals of `jobs` once all are in; rejects after `timeoutMs`. */
  wait(jobs: readonly UpstreamJob[], timeoutMs = 5000): Promise<Arrival[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!jobs.every((j) => this.arrivals.has(j.ticket))) return false
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        clearTimeout(timer)
        resolve(jobs.map((j) => this.arrivals.get(j.ticket)!))
        return true
      }
      const waiter = (): void => void check()
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(new Error(`outcomes missing for tickets ${jobs.filter((j) => !this.arrivals.has(j.ticket)).map((j) => j.ticket).join(',')}`))
      }, timeoutMs)
      this.#waiters.push(waiter)
      check()
    })
  }

  async close(): Promise<void> {
    await this.actor.close()
  }
}

/** Resolves once `cond()` holds (polled every few ms); rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The failure reason (or `ok`) and attempts of an arrival. */
export function verdict(a: Arrival): { reason: string; attempts: number } {
  return { reason: a.outcome.ok ? 'ok' : a.outcome.reason, attempts: a.outcome.attempts }
}

/** The logit the simulator echoes as the median of a series whose last point is `p`. */
export function logitOf(p: number, eps = 1e-6): number {
  const c = Math.min(Math.max(p, eps), 1 - eps)
  return Math.log(c / (1 - c))
}
