import type { Logger } from './log.js'

/**
 * How the daemon process ends when it must (src/main.ts only: a library never exits its host's
 * process nor installs process-wide handlers, SPEC §9).
 */

/**
 * Flush the log, then end the process with `code` — whatever still holds the event loop open
 * (a stuck connection, a thread that will not stop). A destination that never confirms its
 * flush gets half a second.
 */
export function exitAfterFlush(logger: Logger, code: number): void {
  process.exitCode = code
  setTimeout(() => process.exit(code), 500)
  logger.flush(() => process.exit(code))
}

/**
 * An uncaught exception or unhandled rejection is a bug whose damage is unknown: log it as one
 * fatal JSON line with the error and exit 1 (the supervisor restarts us), instead of Node's
 * stack trace on stderr.
 */
export function exitOnFatal(logger: Logger): void {
  const fatal = (kind: string) => (err: unknown) => {
    logger.fatal({ event: kind, err }, `${kind}; exiting`)
    exitAfterFlush(logger, 1)
  }
  process.on('uncaughtException', fatal('uncaught_exception'))
  process.on('unhandledRejection', fatal('unhandled_rejection'))
}
