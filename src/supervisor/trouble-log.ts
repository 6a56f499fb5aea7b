import type { Clock } from '../clock/clock.js'
import type { Logger } from '../log.js'

/**
 * Upstream trouble in the log, one line per change of state and lane: the first failure of a
 * lane that was answering (warn, with the failure class), a change of failure class (warn, at
 * most one per lane every `REPEAT_MS`), and the first success after failures (info, with how
 * many failed). Without it a daemon whose tollama was unreachable logged nothing at all (issue
 * 13): every request fell back quietly. Per failure, not per request: a lane failing at 200
 * requests a second writes a line when the failure starts, changes or ends.
 */
export class UpstreamTroubleLog {
  readonly #log: Logger
  readonly #clock: Clock
  /** Lane → its current failure class (absent: answering). Bounded by the lanes. */
  readonly #failing = new Map<string, { reason: string; since: number; count: number; loggedAt: number; requestId: string | null }>()

  constructor(log: Logger, clock: Clock) {
    this.#log = log
    this.#clock = clock
  }

  /** The failure class a failing lane last showed, or null when it answers. */
  reasonOf(lane: string): string | null {
    return this.#failing.get(lane)?.reason ?? null
  }

  /** The `X-Request-Id` of a failing lane's last failed upstream request, or null. */
  requestIdOf(lane: string): string | null {
    return this.#failing.get(lane)?.requestId ?? null
  }

  ok(lane: string): void {
    if (this.#failing.size === 0) return
    const f = this.#failing.get(lane)
    if (f === undefined) return
    this.#failing.delete(lane)
    const ms = Math.round(this.#clock.now() - f.since)
    this.#log.info({ event: 'upstream_recovered', lane, failures: f.count, failing_ms: ms }, `upstream lane ${lane} answers again after ${f.count} failed request(s) over ${ms} ms (last: ${f.reason})`)
  }

  /**
   * A request of `lane` failed with `reason`; `requestId` is the `X-Request-Id` of the upstream
   * request that failed (null when none was sent), logged so the line can be found in tollama's
   * logs too.
   */
  failed(lane: string, reason: string, requestId: string | null = null): void {
    const now = this.#clock.now()
    const f = this.#failing.get(lane)
    if (f === undefined) {
      this.#failing.set(lane, { reason, since: now, count: 1, loggedAt: now, requestId })
      this.#log.warn(
        { event: 'upstream_failing', lane, reason, upstream_request_id: requestId },
        `upstream lane ${lane} is failing: ${reason}${requestId === null ? '' : ` (request ${requestId})`}; answers fall back to the baseline until it recovers`,
      )
      return
    }
    f.count++
    f.requestId = requestId
    if (f.reason === reason || now - f.loggedAt < REPEAT_MS) return
    f.reason = reason
    f.loggedAt = now
    this.#log.warn(
      { event: 'upstream_failing', lane, reason, failures: f.count, upstream_request_id: requestId },
      `upstream lane ${lane} is still failing, now: ${reason} (${f.count} failures so far; last request ${requestId ?? 'none'})`,
    )
  }

  /** The daemon's periodic `GET /api/version` probe changed its verdict. */
  health(ok: boolean, wasOk: boolean | null, baseUrl: string): void {
    if (ok === wasOk) return
    if (!ok) this.#log.warn({ event: 'upstream_unhealthy', base_url: baseUrl }, `tollama at ${baseUrl} does not answer its health check (GET /api/version)`)
    else if (wasOk === false) this.#log.info({ event: 'upstream_healthy', base_url: baseUrl }, `tollama at ${baseUrl} answers its health check again`)
  }
}

const REPEAT_MS = 10_000
