import { Writable } from 'node:stream'
import type { LogLevel } from '../../src/config/types.js'
import { createLogger, type Logger } from '../../src/log.js'

/** A real pino logger whose JSON lines the test can read back. */
export function capturingLogger(level: LogLevel = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'))
      done()
    },
  })
  const logger = createLogger(level, sink)
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}
