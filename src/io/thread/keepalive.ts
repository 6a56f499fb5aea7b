import type { Socket } from 'node:net'
import { Client, type Dispatcher, type buildConnector } from 'undici'

/**
 * `max_keepalive_connections` for an undici Pool.
 *
 * httpx (the Python service's client) keeps at most that many idle connections and closes the
 * rest when they go idle; undici has no such cap — a Pool keeps every idle socket until its
 * keep-alive timeout. So after a burst of 200 concurrent requests, 200 idle sockets would hold
 * tollama's (uvicorn's) connection slots for `keepalive_timeout_ms`.
 *
 * The mapping: the Pool's `factory` wraps each per-connection Client's connector to learn its
 * socket. After every response, if more than `maxIdle` connections are idle, the sockets of the
 * surplus idle clients are destroyed, last-created first (a Pool hands work to the first free
 * client, so those are the coldest). A socket is only destroyed when its client has nothing
 * running and nothing queued — the same state as a keep-alive socket the server closed, which
 * undici handles by reconnecting on the next request — so no request ever sees it. The clients
 * stay in the Pool; `connections` (= `max_connections`) still caps the total.
 */
class Connection {
  readonly client: Client
  socket: Socket | null

  constructor(client: Client) {
    this.client = client
    this.socket = null
  }

  get idle(): boolean {
    const s = this.client.stats
    return this.socket !== null && !this.socket.destroyed && s.connected && s.running === 0 && s.pending === 0
  }
}

export class KeepAliveCap {
  readonly #maxIdle: number
  readonly #connections: Connection[] = []

  constructor(maxIdle: number) {
    this.#maxIdle = maxIdle
  }

  /** The Pool `factory`: a Client whose socket this policy can see. */
  readonly factory = (origin: URL, opts: object): Dispatcher => {
    const options = opts as Record<string, unknown> & { connect: buildConnector.connector }
    const connect = options.connect
    // The client is created below; the connector closure reaches it through `conn`.
    let conn: Connection | null = null
    const client = new Client(origin, {
      ...options,
      connect: (o: buildConnector.Options, cb: buildConnector.Callback) => {
        connect(o, (err, socket) => {
          if (err === null && conn !== null) conn.socket = socket as Socket
          ;(cb as (e: Error | null, s: Socket | null) => void)(err, socket as Socket | null)
        })
      },
    })
    conn = new Connection(client)
    const self = conn
    this.#connections.push(self)
    // A Pool drops a client after a connection error without closing it; forget it too.
    const forget = (): void => {
      const i = this.#connections.indexOf(self)
      if (i !== -1) this.#connections.splice(i, 1)
    }
    client.once('connectionError', forget)
    return client
  }

  /** Idle connections right now. */
  get idle(): number {
    let n = 0
    for (const c of this.#connections) if (c.idle) n++
    return n
  }

  /** Close idle connections beyond `maxIdle`, coldest first. Returns how many were closed. */
  trim(): number {
    let idle = this.idle
    let closed = 0
    for (let i = this.#connections.length - 1; i >= 0 && idle > this.#maxIdle; i--) {
      const c = this.#connections[i]!
      if (!c.idle) continue
      c.socket!.destroy()
      c.socket = null
      idle--
      closed++
    }
    return closed
  }
}
