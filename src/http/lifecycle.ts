import type { Server } from 'node:http'
import type { Admission } from './admission.js'

/**
 * - `serving`: normal;
 * - `draining`: SIGTERM/SIGINT arrived; `/health/ready` answers 503 `draining` so load balancers
 *   stop sending, and everything is still served;
 * - `closing`: the listener is closed; requests in flight are answered, new ones arriving on open
 *   connections get 503 `TSFM_SHUTTING_DOWN`, and every answer ends its connection.
 */
export type ServerPhase = 'serving' | 'draining' | 'closing'

/** The HTTP side of a graceful stop (SPEC §2.3); the daemon (src/main.ts) decides when. */
export class ServerLifecycle {
  phase: ServerPhase = 'serving'
  #closed: Promise<void> | null = null

  constructor(
    readonly server: Server,
    readonly admission: Admission,
    /** fastify's close: its hooks, then the Node server's. */
    readonly closeApp: () => Promise<void>,
  ) {}

  /** Ready turns 503 `draining`; nothing else changes. */
  beginDrain(): void {
    if (this.phase === 'serving') this.phase = 'draining'
  }

  /**
   * Close the listener, answer every request received in full, then cut off the connections
   * still open — clients part-way through sending a request, which are nobody's answer to
   * wait for — and resolve once the server has closed.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    this.phase = 'closing'
    // Stop accepting now (Node also closes idle keep-alive connections). fastify's close below
    // finds the listener closed, which it allows for, and waits for the last connection.
    this.server.close()
    const closed = this.closeApp()
    await this.admission.whenAnswered()
    this.server.closeAllConnections()
    await closed
  }
}
