import { startDaemonProcess, type DaemonProcess } from './daemon-process.js'
import type { TmpDir } from './tmp-files.js'

/**
 * `tsfm-runner serve` processes sharing one Redis (each its own event loop, as in production),
 * in front of `upstream`; `extra` YAML lines go under `tsfm:`.
 */
export async function startL2Daemons(n: number, dir: TmpDir, upstream: string, redisUrl: string, l2: Record<string, number | string> = {}): Promise<DaemonProcess[]> {
  const l2Keys = Object.entries({ url: redisUrl, ...l2 }).map(([k, v]) => `      ${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`)
  const file = dir.write(
    `tsfm-l2-${Math.random().toString(36).slice(2)}.yaml`,
    [
      'tsfm:',
      '  adapter:',
      `    base_url: ${upstream}`,
      '    health_interval_s: 0',
      '    warmup: {enabled: false}',
      '  cache:',
      '    l2:',
      ...l2Keys,
      '  server:',
      '    port: 0',
      '    rate_limit: {enabled: false}',
    ].join('\n'),
  )
  const out: DaemonProcess[] = []
  for (let i = 0; i < n; i++) out.push(await startDaemonProcess(file, { env: { TSFM_LOG_LEVEL: 'info' } }))
  return out
}

/** SIGTERM every daemon and wait for its exit. */
export async function stopDaemons(daemons: readonly DaemonProcess[]): Promise<void> {
  await Promise.all(
    daemons.map(async (d) => {
      if (d.child.exitCode === null) d.child.kill('SIGTERM')
      await d.exited
    }),
  )
}
