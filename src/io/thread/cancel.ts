/**
 * A hedged request's way out (SPEC §7 hedging: "the loser is cancelled"): the client binds the
 * running HTTP attempt to it, and `abort()` ends that attempt at once as `cancelled` — not a
 * failure: its members were answered by the other request, and the upstream did nothing wrong.
 * Only batches that can be hedged carry one.
 */
export class Cancel {
  #abort: (() => void) | null = null
  #cancelled = false

  get cancelled(): boolean {
    return this.#cancelled
  }

  /** The attempt now running; aborted at once if `abort()` came first. */
  bind(abort: () => void): void {
    if (this.#cancelled) abort()
    else this.#abort = abort
  }

  abort(): void {
    if (this.#cancelled) return
    this.#cancelled = true
    const a = this.#abort
    this.#abort = null
    a?.()
  }
}
