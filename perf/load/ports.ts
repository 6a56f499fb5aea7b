import { connect, createServer } from 'node:net'

/** A port on 127.0.0.1 with nobody listening: every connection to it is refused. */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` now (a server started by a test or bench). */
export function accepts(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy()
      ok(true)
    })
    s.once('error', () => ok(false))
  })
}
