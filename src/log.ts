import { pino, type Logger } from 'pino'
import type { LogLevel } from './config/types.js'

export type { Logger } from 'pino'

/**
 * Structured JSON logs (pino). The daemon logs to stdout at the configured level; an embedding
 * process passes its own logger or gets a silent one (a library must not write to the host's
 * stdout uninvited). pino picks no-op functions for disabled levels at construction, so a
 * disabled `debug` per request costs a property read (pino's own benchmarks).
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const opts = {
    level,
    base: { svc: 'tsfm-runner' },
    // Never log secrets even if a config object or header map ends up in a log call.
    redact: { paths: ['*.api_token', 'config.*.api_token', '*.api_tokens', 'config.*.api_tokens', '*.metrics_token', 'config.*.metrics_token', 'headers.authorization', 'headers["x-api-key"]'], censor: '***' },
  }
  return destination === undefined ? pino(opts) : pino(opts, destination as unknown as pino.DestinationStream)
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
