import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** Hears, once, that an admitted request's response has closed: answered, or its client left. */
export interface CloseWatcher {
  /** Must not throw: it runs inside a socket event. */
  responseClosed(): void
}

/**
 * The admission limit (SPEC §2.1, 503 `TSFM_OVERLOADED`): each admitted request is counted for
 * exactly its lifetime, from admission until Node closes its response — once, whether the answer
 * was sent ('finish' then 'close') or the client went away first ('close' alone). fastify's
 * `onResponse` runs only after 'finish', so a slot given back there leaked for every client that
 * gave up (two `curl -m 0.1` against a slow upstream made an `admission_limit: 2` daemon answer
 * 503 for good).
 *
 * One 'close' listener per response, shared by all of them (the response is `this`); the route
 * that serves a request registers its per-request object with `watch` to learn the same moment.
 */
export class Admission {
  readonly limit: number
  /** Admitted responses not yet closed, and who watches each. */
  readonly #open = new Map<ServerResponse, CloseWatcher | null>()
  readonly #onResponseClose: (this: ServerResponse) => void
  readonly #onSocketClose: (this: Socket) => void
  readonly #pipelining = new WeakSet<Socket>()
  #answered: (() => void) | null = null

  constructor(limit: number) {
    this.limit = limit
    this.#onResponseClose = responseCloseListener(this)
    this.#onSocketClose = socketCloseListener(this)
  }

  /** Requests admitted and not yet closed. */
  get size(): number {
    return this.#open.size
  }

  get full(): boolean {
    return this.#open.size >= this.limit
  }

  /** Count this request until its response closes. */
  admit(req: IncomingMessage, res: ServerResponse): void {
    this.#open.set(res, null)
    res.once('close', this.#onResponseClose)
    // A pipelined request's response waits, without a socket, behind the one before it, and on
    // Node 20 it never emits 'close' if the connection dies first (Node 22 destroys it). Its
    // connection's 'close' gives its slot back instead. Rare: clients seldom pipeline.
    if (res.socket === null && !this.#pipelining.has(req.socket)) {
      this.#pipelining.add(req.socket)
      req.socket.once('close', this.#onSocketClose)
    }
  }

  /**
   * `watcher` hears when `res` closes. False when it has closed already (its client left while
   * the body was being read): the caller then starts no work for it.
   */
  watch(res: ServerResponse, watcher: CloseWatcher): boolean {
    if (!this.#open.has(res)) return false
    this.#open.set(res, watcher)
    return true
  }

  /**
   * Resolves once every admitted request that was received in full has been answered (its
   * response closed). Requests still being uploaded are not waited for: a drain cuts them off.
   */
  whenAnswered(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#answered = resolve
      this.#checkAnswered()
    })
  }

  release(res: ServerResponse): void {
    const watcher = this.#open.get(res)
    if (!this.#open.delete(res)) return
    watcher?.responseClosed()
    if (this.#answered !== null) this.#checkAnswered()
  }

  socketClosed(socket: Socket): void {
    for (const res of this.#open.keys()) if (res.req.socket === socket) this.release(res)
  }

  #checkAnswered(): void {
    for (const res of this.#open.keys()) if (res.req.complete) return
    const done = this.#answered
    this.#answered = null
    done?.()
  }
}

// Listener factories rather than closures per request: one of each per Admission.
function responseCloseListener(admission: Admission): (this: ServerResponse) => void {
  return function (this: ServerResponse) {
    admission.release(this)
  }
}

function socketCloseListener(admission: Admission): (this: Socket) => void {
  return function (this: Socket) {
    admission.socketClosed(this)
  }
}
