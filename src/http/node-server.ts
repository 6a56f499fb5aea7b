import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { ServerConfig } from '../config/types.js'

/**
 * Keep-alive connections outlive the idle timeout of the load balancers in front (60 s on most),
 * so the balancer, not us, closes an idle one and never sends on a socket we are closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 72_000

/**
 * The Node HTTP server under fastify (its `serverFactory`), created with Node's own limits on
 * slow clients: headers within `server.headers_timeout_ms`, the whole request within
 * `server.request_timeout_ms`, else a 408 and the connection is closed. Without them (fastify
 * sets none) a client stuck part-way through its body held an admission slot, and a drain, for
 * as long as it stayed connected. Time spent answering is not limited: the clock stops once the
 * request has been received.
 */
export function createNodeServer(handler: (req: IncomingMessage, res: ServerResponse) => void, config: ServerConfig): Server {
  const server = createServer(
    {
      headersTimeout: config.headers_timeout_ms,
      requestTimeout: config.request_timeout_ms,
      connectionsCheckingInterval: checkingIntervalMs(config.headers_timeout_ms, config.request_timeout_ms),
    },
    handler,
  )
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  return server
}

/**
 * Node checks both limits only every `connectionsCheckingInterval` (30 s by default, so a 10 s
 * limit could take 40 s). A quarter of the shorter limit, kept within 50 ms … 1 s, enforces each
 * within 25 % of itself or 1 s; a check walks only the connections in the middle of a request.
 */
export function checkingIntervalMs(headersMs: number, requestMs: number): number {
  const limits = [headersMs, requestMs].filter((ms) => ms > 0)
  if (limits.length === 0) return 30_000
  return Math.min(1000, Math.max(50, Math.floor(Math.min(...limits) / 4)))
}
