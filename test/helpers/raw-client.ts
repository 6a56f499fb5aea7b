import { connect, type Socket } from 'node:net'

/** A plain TCP connection to a daemon, for clients undici will not imitate (stuck, pipelining). */
export interface RawClient {
  readonly socket: Socket
  /** Everything the daemon has sent so far. */
  received(): string
  /** Resolves when the connection closes. */
  readonly closed: Promise<'closed'>
}

export async function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  let text = ''
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
  socket.on('error', () => {})
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')))
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  return { socket, received: () => text, closed }
}

/** Headers announcing a 1000-byte body, 10 bytes of it, then silence. */
export async function stuckMidBody(url: string): Promise<RawClient> {
  const c = await rawClient(url)
  c.socket.write('POST /tsfm/forecast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"market_i')
  return c
}

/** A complete `POST path` with a JSON body, as raw HTTP/1.1 text. */
export function rawPost(path: string, payload: unknown): string {
  const text = JSON.stringify(payload)
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
}
