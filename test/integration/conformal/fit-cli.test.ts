import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { readStateFile } from '../../../src/conformal/state-file.js'
import { distFile } from '../../../src/paths.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'

const run = promisify(execFile)
const CLI = distFile('src/cli.js')

interface Failed {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function fails(args: string[]): Promise<Failed> {
  return run(process.execPath, [CLI, ...args]).then(
    () => {
      throw new Error(`tsfm-runner ${args.join(' ')} succeeded`)
    },
    (e: Failed) => e,
  )
}

/** Lines of the Python pipeline's shape (q10/q50/q90, resolved_prob) and of this tool's. */
function pairsText(n: number): string {
  const lines: string[] = []
  for (let i = 0; i < n; i++) {
    const p = 0.3 + (i % 40) / 100
    const actual = p + (((i * 7) % 11) - 5) / 200
    lines.push(i % 2 === 0 ? JSON.stringify({ q10: p - 0.02, q50: p, q90: p + 0.02, resolved_prob: actual, liquidity_bucket: i % 3 === 0 ? 'high' : 'low' }) : JSON.stringify({ q_low: p - 0.03, q_high: p + 0.03, actual, liquidity_bucket: 'low' }))
    if (i % 50 === 0) lines.push('')
  }
  return lines.join('\n') + '\n'
}

describe('tsfm-runner conformal fit (the built CLI)', () => {
  const tmp = makeTmpDir('tsfm-conformal-cli-')
  afterAll(() => tmp.remove())

  it('fits a JSON Lines file into a state file the daemon can read, and summarises it on stdout', async () => {
    const input = tmp.write('good.jsonl', pairsText(300))
    const out = `${tmp.dir}/good-state.json`
    const { stdout, stderr } = await run(process.execPath, [CLI, 'conformal', 'fit', '--input', input, '--out', out, '--segment-fields', 'liquidity_bucket', '--min-samples', '120'])
    expect(stderr).toBe('')
    expect(stdout).toMatch(/^Fitted 300 pairs from .*good\.jsonl for coverage 0\.9: default centre shift /)
    expect(stdout).toContain('1 segment(s) by liquidity_bucket fitted (liquidity_bucket=low: ')
    expect(stdout).toContain('1 left out with fewer than 120 pairs')
    const state = await readStateFile(out)
    expect(state.schemaVersion).toBe(2)
    expect(state.default.sample_size).toBe(300)
    expect(state.default.target_coverage).toBe(0.9)
    expect([...state.segments.keys()]).toEqual(['liquidity_bucket=low'])
    expect(state.segments.get('liquidity_bucket=low')!.sample_size).toBe(250)
    expect(state.metadata.segments_skipped).toEqual({ 'liquidity_bucket=high': 50 })
  })

  it('writes segment keys in the routing keys order, whatever the order of --segment-fields', async () => {
    const input = tmp.write('order.jsonl', pairsText(300).replace(/"liquidity_bucket"/g, '"tte_bucket":"0_24h","liquidity_bucket"'))
    const out = `${tmp.dir}/order-state.json`
    await run(process.execPath, [CLI, 'conformal', 'fit', '--input', input, '--out', out, '--segment-fields', 'tte_bucket,liquidity_bucket', '--min-samples', '10'])
    const state = await readStateFile(out)
    expect([...state.segments.keys()]).toEqual(['liquidity_bucket=high|tte_bucket=0_24h', 'liquidity_bucket=low|tte_bucket=0_24h'])
    expect(state.segmentFields).toEqual(['liquidity_bucket', 'tte_bucket'])
  })

  it('writes schema 1 without segments', async () => {
    const input = tmp.write('plain.jsonl', pairsText(30))
    const out = `${tmp.dir}/plain-state.json`
    await run(process.execPath, [CLI, 'conformal', 'fit', '--input', input, '--out', out, '--coverage', '0.8'])
    const state = await readStateFile(out)
    expect(state.schemaVersion).toBe(1)
    expect(state.segments.size).toBe(0)
    expect(state.default.target_coverage).toBe(0.8)
  })

  it('stops at a bad line with exit 1, naming the line and the field and quoting the value, and writes nothing', async () => {
    const good = pairsText(20).split('\n')
    const input = tmp.write('bad.jsonl', [...good.slice(0, 5), '{"q_low": 0.4, "q_high": "0.6", "actual": 0.5}', ...good.slice(5)].join('\n'))
    const out = `${tmp.dir}/bad-state.json`
    const r = await fails(['conformal', 'fit', '--input', input, '--out', out])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`tsfm-runner conformal fit: ${input}, line 6: q_high should be a finite number, got "0.6"\n`)
    expect(r.stdout).toBe('')
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('bad-state'))).toEqual([])
  })

  it('says which line is not JSON and which field is missing', async () => {
    const notJson = tmp.write('not-json.jsonl', '{"q_low": 0.4, "q_high": 0.6, "actual": 0.5}\n{"q_low": 0.4,\n')
    expect((await fails(['conformal', 'fit', '--input', notJson, '--out', `${tmp.dir}/x.json`])).stderr).toMatch(/, line 2: not JSON \(.*\): "\{\\"q_low\\": 0\.4,"\n$/)
    const missing = tmp.write('missing.jsonl', '{"q_low": 0.4, "q_high": 0.6}\n')
    const r = await fails(['conformal', 'fit', '--input', missing, '--out', `${tmp.dir}/x.json`])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(', line 1: actual (or resolved_prob) is missing')
    expect(existsSync(`${tmp.dir}/x.json`)).toBe(false)
  })

  it('exits 1 for an input file that cannot be read', async () => {
    const r = await fails(['conformal', 'fit', '--input', `${tmp.dir}/nope.jsonl`, '--out', `${tmp.dir}/x.json`])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`cannot read --input "${tmp.dir}/nope.jsonl": ENOENT`)
  })

  it('exits 2 with the usage when --input is missing or an option is malformed', async () => {
    const noInput = await fails(['conformal', 'fit', '--out', `${tmp.dir}/x.json`])
    expect(noInput.code).toBe(2)
    expect(noInput.stderr).toContain('--input FILE is required')
    expect(noInput.stderr).toContain('Usage: tsfm-runner conformal fit')
    const input = tmp.write('ok.jsonl', pairsText(5))
    for (const [flag, value, message] of [
      ['--coverage', '1.5', '--coverage should be a number in (0, 1], got "1.5"'],
      ['--min-samples', '0', '--min-samples should be an integer ≥ 1, got "0"'],
      ['--segment-fields', 'a,,b', '--segment-fields should be comma-separated names without "=" or "|", got "a,,b"'],
      ['--segment-fields', 'liquidity_bucket,region', '--segment-fields should name only category, liquidity_bucket, tte_bucket (the keys the daemon selects a segment by), got "region"'],
    ] as const) {
      const r = await fails(['conformal', 'fit', '--input', input, '--out', `${tmp.dir}/x.json`, flag, value])
      expect(r.code, flag).toBe(2)
      expect(r.stderr, flag).toContain(message)
    }
    expect((await fails(['conformal', 'refit'])).code).toBe(2)
    expect(existsSync(`${tmp.dir}/x.json`)).toBe(false)
  })

  it('prints its help, and the top usage lists it', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'conformal', 'fit', '--help'])
    expect(stdout).toContain('Usage: tsfm-runner conformal fit --input FILE --out FILE')
    expect((await run(process.execPath, [CLI, '--help'])).stdout).toContain('conformal fit')
  })
})
