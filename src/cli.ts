#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ENV_VARS, loadConfig, printConfig } from './config/index.js'
import { conformalMain } from './conformal/fit-cli.js'
import { isTsfmError } from './errors.js'
import { serveMain } from './main.js'
import { simUpstreamMain } from './sim/cli.js'
import { runIfEntry } from './entry.js'
import { packageVersion } from './version.js'

/** The `tsfm-runner` command (package `bin`). */

const USAGE = `Usage: tsfm-runner <command> [options]

Commands:
  serve          run the HTTP daemon (POST /tsfm/forecast, /tsfm/cycle, /metrics, /health/*)
  config print   print the effective configuration as YAML (tokens redacted)
  sim-upstream   run the tollama simulator (a test and benchmark tool, not a forecaster)
  conformal fit  fit the conformal band adjustment from past bands and outcomes (JSON Lines)
                 and write the Python service's conformal state file

Run \`tsfm-runner <command> --help\` for a command's options; \`tsfm-runner --version\` prints the version.
`

function envHelp(): string {
  const width = Math.max(...ENV_VARS.map((v) => v.name.length))
  return ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.description}${v.path === null ? '' : ` (${v.path})`}`).join('\n')
}

const SERVE_USAGE = `Usage: tsfm-runner serve [--config FILE] [--host H] [--port P] [--strict-config]

Options:
  --config FILE     YAML config (blueprint layout or the Python service's tsfm_runtime.yaml)
  --host H          listen address (default 127.0.0.1)
  --port P          listen port (default 8080; 0 = any free port)
  --strict-config   unknown config keys are errors, not warnings
  -h, --help        this help

Environment (overrides the file, overridden by flags):
${envHelp()}

SIGTERM/SIGINT drain: no new requests, every accepted one answered, exit 0.
SIGHUP reloads the conformal state file (conformal.state_path).
`

const CONFIG_USAGE = `Usage: tsfm-runner config print [--config FILE] [--strict-config]

Prints the effective configuration (defaults < file < environment) as YAML under \`tsfm:\`.
Warnings about the file go to stderr.

Environment:
${envHelp()}
`

export async function cliMain(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'serve':
        return await serve(rest)
      case 'config':
        return configCommand(rest)
      case 'sim-upstream':
        return await simUpstreamMain(rest)
      case 'conformal':
        return await conformalMain(rest)
      case '-V':
      case '--version':
        process.stdout.write(`tsfm-runner ${packageVersion()} (node ${process.version})\n`)
        return 0
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE)
        return command === undefined ? 2 : 0
      default:
        process.stderr.write(`tsfm-runner: unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
        return 2
    }
  } catch (e) {
    // Start-up errors (config, bind) are one readable message, never a stack trace.
    if (isTsfmError(e)) process.stderr.write(`tsfm-runner: ${e.message}\n`)
    else process.stderr.write(`tsfm-runner: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'strict-config': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help === true) {
    process.stdout.write(SERVE_USAGE)
    return 0
  }
  return serveMain({ configFile: values.config, host: values.host, port: values.port, strict: values['strict-config'] === true })
}

function configCommand(argv: string[]): number {
  const [sub, ...rest] = argv
  const { values } = parseArgs({
    args: rest,
    options: { config: { type: 'string' }, 'strict-config': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  })
  if (values.help === true || sub === '--help' || sub === '-h') {
    process.stdout.write(CONFIG_USAGE)
    return 0
  }
  if (sub !== 'print') {
    process.stderr.write(`tsfm-runner config: unknown subcommand ${JSON.stringify(sub ?? '')}\n\n${CONFIG_USAGE}`)
    return 2
  }
  const loaded = loadConfig({ file: values.config, strict: values['strict-config'] === true })
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`)
  for (const n of loaded.notes) process.stderr.write(`note: ${n}\n`)
  process.stdout.write(printConfig(loaded.config))
  return 0
}

runIfEntry(import.meta.url, 'tsfm-runner', cliMain)
