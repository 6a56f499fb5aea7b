import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { generatedBlocks, readBlock } from '../../docs/readme-sync.js'
import { distFile, packageRoot } from '../../src/paths.js'

const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8')

describe('README', () => {
  it('gives exactly the two set-up commands on its first screen', () => {
    const first = readme.split('\n').slice(0, 40).join('\n')
    expect(first).toContain('make run')
    expect(first).toContain('make test')
  })

  it.each(Object.keys(generatedBlocks()))('has an up-to-date %s block (run `make readme`)', (name) => {
    expect(readBlock(readme, name)).toBe((generatedBlocks()[name] as string).trim())
  })

  it('documents every fallback reason and every metric of SPEC §8', async () => {
    const { FIXED_REASONS } = await import('../../src/reasons.js')
    for (const r of FIXED_REASONS) expect(readme).toContain(`\`${r}\``)
    for (const m of ['tsfm_request_latency_ms', 'tsfm_queue_wait_ms', 'tollama_latency_ms', 'tsfm_requests_total', 'tsfm_fallback_total', 'tsfm_cache_requests_total', 'tsfm_degradation_mode', 'tsfm_circuit_breaker_state', 'tsfm_breaker_transitions_total', 'tsfm_mode_transitions_total', 'tsfm_inflight', 'tsfm_mailbox_depth', 'tsfm_upstream_batch_size']) {
      expect(readme).toContain(m)
    }
  })

  it('runs the embedding example it shows', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [distFile('docs/examples/embedding.js')], { timeout: 30_000 })
    expect(stdout.trim().split('\n')).toEqual(['tollama 12 null', '2 c tollama', '0 a tollama', '1 b tollama', 'closed'])
  })
})
