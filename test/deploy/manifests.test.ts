import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { DEFAULTS } from '../../src/config/defaults.js'
import { packageRoot } from '../../src/paths.js'

/**
 * The deployment files (deploy/docker, deploy/systemd, deploy/kubernetes), checked as far as this
 * machine can: no container registry here, so the image is not built; the unit goes through
 * `systemd-analyze verify`; the manifests are parsed and held against the daemon's routes and
 * drain timings, which they must match.
 */
const root = packageRoot()
const read = (p: string): string => readFileSync(join(root, 'deploy', p), 'utf8')
const run = promisify(execFile)
const ROUTES = ['/health/live', '/health/ready', '/health/startup', '/metrics']

describe('the Dockerfile', () => {
  const text = read('docker/Dockerfile')

  it('builds in two stages and runs as an unprivileged user, listening on every interface', () => {
    expect(text.match(/^FROM /gm)).toHaveLength(2)
    expect(text).toMatch(/^USER node$/m)
    expect(text).toMatch(/TSFM_HOST=0\.0\.0\.0/)
    expect(text).toMatch(/^ENTRYPOINT \["node", "dist\/src\/cli\.js"\]$/m)
  })

  it('checks its health on /health/live, and copies only what exists in this repository', () => {
    expect(text).toMatch(/HEALTHCHECK[\s\S]*\/health\/live/)
    for (const m of text.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      for (const f of (m[1] as string).split(/\s+/)) expect(existsSync(join(root, f)), f).toBe(true)
    }
  })
})

describe('the systemd unit', () => {
  it('passes systemd-analyze verify', async () => {
    const { stderr } = await run('systemd-analyze', ['verify', join(root, 'deploy/systemd/tsfm-runner.service')]).catch((e: { code?: unknown; stderr?: string }) => {
      // A missing tool must fail the test, not pass it for want of complaints.
      if (e.code === 'ENOENT' || e.stderr === undefined) throw new Error(`systemd-analyze could not run: ${String(e.code)}`)
      return { stderr: e.stderr }
    })
    // Lines about the host's own units are not ours.
    expect(stderr.split('\n').filter((l) => l.includes('tsfm-runner'))).toEqual([])
  })

  it('reloads with SIGHUP and leaves the drain time to stop', () => {
    const text = read('systemd/tsfm-runner.service')
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m)
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1])
    expect(stop * 1000).toBeGreaterThan(DEFAULTS.server.drain_timeout_ms)
  })
})

describe('the Kubernetes manifests', () => {
  const docs = ['deployment.yaml', 'service.yaml', 'servicemonitor.yaml'].flatMap((f) => parseAllDocuments(read(`kubernetes/${f}`)).map((d) => d.toJS() as any))
  const deployment = docs.find((d) => d.kind === 'Deployment')
  const container = deployment.spec.template.spec.containers[0]

  it('parse, and each has apiVersion, kind and a name', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Service', 'ServiceMonitor'])
    for (const d of docs) {
      expect(typeof d.apiVersion).toBe('string')
      expect(typeof d.metadata.name).toBe('string')
    }
  })

  it('probe the three health routes the daemon serves, on the port it listens on', () => {
    expect(container.startupProbe.httpGet.path).toBe('/health/startup')
    expect(container.livenessProbe.httpGet.path).toBe('/health/live')
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready')
    for (const p of [container.startupProbe, container.livenessProbe, container.readinessProbe]) expect(ROUTES).toContain(p.httpGet.path)
    expect(container.ports[0].containerPort).toBe(Number(container.env.find((e: { name: string }) => e.name === 'TSFM_PORT').value))
  })

  it('give the drain its time: readiness notices within the drain delay, and the grace period outlasts the drain timeout', () => {
    const probe = container.readinessProbe
    expect(probe.periodSeconds * probe.failureThreshold * 1000).toBeLessThanOrEqual(DEFAULTS.server.drain_delay_ms)
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(DEFAULTS.server.drain_timeout_ms + 2000)
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true)
  })

  it('scrape /metrics through the Service port', () => {
    const service = docs.find((d) => d.kind === 'Service')
    const monitor = docs.find((d) => d.kind === 'ServiceMonitor')
    expect(monitor.spec.endpoints[0].path).toBe('/metrics')
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.spec.endpoints[0].port)
  })
})
