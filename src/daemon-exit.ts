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
