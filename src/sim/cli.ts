import { parseSimArgs, SIM_USAGE } from './options.js'
import { startSimulator } from './server.js'
import { runIfEntry } from '../entry.js'

/**
 * `tsfm-runner sim-upstream [options]` (argv without the sub-command). The first stdout line is
 * `tsfm-runner sim-upstream listening on http://127.0.0.1:PORT` (benchmarks parse it); SIGINT or
 * SIGTERM stops it cleanly with exit code 0. Also runs standalone: `node dist/src/sim/cli.js`.
 */
export async function simUpstreamMain(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseSimArgs(argv)
  } catch (e) {
    process.stderr.write(`tsfm-runner sim-upstream: ${e instanceof Error ? e.message : String(e)}\n`)
    return 2
  }
  if (parsed.help) {
    process.stdout.write(SIM_USAGE)
    return 0
  }
  let sim
  try {
    sim = await startSimulator(parsed.options)
  } catch (e) {
    process.stderr.write(`tsfm-runner sim-upstream: ${e instanceof Error ? e.message : String(e)}\n`)
    return 2
  }
  process.stdout.write(`tsfm-runner sim-upstream listening on ${sim.url}\n`)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await sim.close()
  return 0
}

runIfEntry(import.meta.url, 'tsfm-runner sim-upstream', simUpstreamMain)
