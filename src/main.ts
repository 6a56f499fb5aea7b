import { packageVersion } from './version.js'
import { baseUrlText } from './config/base-urls.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig, type TextSetting } from './config/index.js'
import type { TsfmConfig } from './config/types.js'
import { exitAfterFlush, exitOnFatal } from './daemon-exit.js'
import { buildServer, type TsfmServer } from './http/server.js'
import { createLogger, type Logger } from './log.js'
import { createRunner, type Runner } from './runner.js'

/**
 * Daemon wiring only: config → logger → runner (math pool, I/O actor, supervisor) → HTTP server,
 * plus the process-level concerns a library must not have: signal handlers and the exit code.
 */

export interface ServeArgs {
  readonly configFile?: string | undefined
  readonly host?: string | undefined
  readonly port?: string | undefined
  readonly strict?: boolean
}

export interface Daemon {
  readonly config: TsfmConfig
  readonly runner: Runner
  readonly server: TsfmServer
  readonly url: string
  readonly logger: Logger
  /**
   * Ready turns 503 `draining` while requests are still served for `server.drain_delay_ms`; then
   * stop accepting, answer everything received, cut off clients still sending, stop the threads.
   */
  drain(): Promise<void>
}

export async function startDaemon(args: ServeArgs, logDestination?: NodeJS.WritableStream): Promise<Daemon> {
  const text: TextSetting[] = []
  if (args.host !== undefined) text.push({ path: 'tsfm.server.host', text: args.host, source: '--host' })
  if (args.port !== undefined) text.push({ path: 'tsfm.server.port', text: args.port, source: '--port' })
  const loaded = loadConfig({ file: args.configFile, strict: args.strict ?? false, textOverrides: text })
  const config = loaded.config
  const logger = createLogger(config.logging.level, logDestination)
  for (const w of loaded.warnings) logger.warn({ event: 'config_warning' }, w)
  for (const n of loaded.notes) logger.info({ event: 'config_note' }, n)
  const runner = await createRunner({ effectiveConfig: config, logger })
  let server: TsfmServer
  try {
    server = await buildServer({ runner, config, logger })
    await server.listen({ host: config.server.host, port: config.server.port })
  } catch (e) {
    await runner.close()
    throw e
  }
  const addr = server.server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.server.port
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`
  // The one line that says what is running: version, where it asks, for which models, in what mode.
  const version = packageVersion()
  const models = [...new Set([config.adapter.model, ...config.adapter.warmup.models])]
  const mode = runner.state().mode.mode
  logger.info(
    { event: 'listening', url, version, node: process.version, upstream: config.adapter.base_url, models, mode, conformal: config.conformal.state_path, file: loaded.file },
    `tsfm-runner ${version} listening on ${url}; upstream ${baseUrlText(config.adapter)}, model(s) ${models.join(', ')}, mode ${mode}`,
  )

  let draining: Promise<void> | null = null
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      const delayMs = config.server.drain_delay_ms
      logger.info({ event: 'draining', open: runner.openRequests, delay_ms: delayMs }, 'draining: not ready; closing the listener after the drain delay')
      // Load balancers see `/health/ready` 503 and stop sending; what they still send is served.
      server.lifecycle.beginDrain()
      if (delayMs > 0) await sleep(delayMs)
      logger.info({ event: 'listener_closed', open: runner.openRequests }, 'draining: no new requests, answering those in flight')
      // The server stops accepting and waits for the HTTP requests it has received; the runner
      // still serves them (upstream if it answers in time, else the baseline), then its threads stop.
      await Promise.all([server.lifecycle.close(), runner.beginDrain()])
      await runner.close()
      logger.info({ event: 'drained' }, 'drained')
    })()
    return draining
  }
  return { config, runner, server, url, logger, drain }
}

/**
 * `tsfm-runner serve`: run until SIGTERM/SIGINT, drain, exit 0 — or exit 1 when the drain takes
 * longer than `server.drain_timeout_ms`, or on an uncaught exception or unhandled rejection.
 */
export async function serveMain(args: ServeArgs): Promise<number> {
  const daemon = await startDaemon(args)
  const { logger } = daemon
  exitOnFatal(logger)
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      logger.info({ event: 'signal', signal }, `received ${signal}`)
      // The process ends here even if something still holds it open (it once stayed up for 11
      // minutes after this line with the exit code set).
      const timeout = setTimeout(() => {
        logger.error({ event: 'drain_timeout', open: daemon.runner.openRequests }, 'drain timeout reached; exiting')
        exitAfterFlush(logger, 1)
      }, daemon.config.server.drain_timeout_ms)
      daemon.drain().then(
        () => {
          clearTimeout(timeout)
          logger.flush()
          resolve(0)
          // Nothing of ours is left open; should anything else still hold the process, it ends
          // anyway (the timer itself does not keep it alive).
          setTimeout(() => {
            logger.warn({ event: 'exit_forced' }, 'drained, but something still holds the process open; exiting')
            exitAfterFlush(logger, 0)
          }, 1000).unref()
        },
        (e: unknown) => {
          logger.error({ err: e }, 'drain failed')
          exitAfterFlush(logger, 1)
        },
      )
    }
    // SIGHUP: re-read the conformal state file (the conventional "reload your files" signal).
    const reload = (): void => {
      logger.info({ event: 'signal', signal: 'SIGHUP' }, 'received SIGHUP: reloading the conformal state')
      void daemon.runner.reloadConformal()
    }
    process.on('SIGHUP', reload)
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
