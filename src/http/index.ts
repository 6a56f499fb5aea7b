/**
 * `tsfm-runner/http`: the daemon's HTTP server (SPEC §2) for a host that serves a runner itself.
 * A subpath of its own so that the main entry, `tsfm-runner`, never loads fastify: a trading
 * process embedding the runner does not pay for (or audit) an HTTP stack it does not use.
 */
export { buildServer } from './server.js'
export type { ServerOptions, TsfmServer } from './server.js'
export type { ServerLifecycle, ServerPhase } from './lifecycle.js'
