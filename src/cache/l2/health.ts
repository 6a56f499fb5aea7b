import type { Logger } from '../../log.js'

/**
 * Whether L2 is worth asking. Down after a command error, or after `TIMEOUTS_TO_DOWN`
 * consecutive lookups that ran past `command_timeout_ms` (one late reply can be an event-loop
 * pause of this process; three in a row is Redis). While down no request asks L2 — none pays
 * the timeout — and a probe (the lookup script on a key of its own) asks instead; its first
 * timely reply brings it back up.
 * One log line per change of state, never per request.
 */
export const TIMEOUTS_TO_DOWN = 3

export class L2Health {
  #up = false
  #timeouts = 0
  readonly #log: Logger
  readonly #onChange: (up: boolean) => void

  constructor(log: Logger, onChange: (up: boolean) => void) {
    this.#log = log
    this.#onChange = onChange
  }

  get up(): boolean {
    return this.#up
  }

  /** A command was answered in time. */
  ok(): void {
    this.#timeouts = 0
    if (this.#up) return
    this.#up = true
    this.#log.info({ event: 'l2_state', up: true }, 'L2 cache (Redis) is up: lookups resume')
    this.#onChange(true)
  }

  timedOut(): void {
    if (++this.#timeouts >= TIMEOUTS_TO_DOWN) this.down('timeout')
  }

  down(why: string): void {
    this.#timeouts = 0
    if (!this.#up) return
    this.#up = false
    this.#log.warn({ event: 'l2_state', up: false, reason: why }, `L2 cache (Redis) is down (${why}): serving from L1 and the upstream until it answers again`)
    this.#onChange(false)
  }
}
