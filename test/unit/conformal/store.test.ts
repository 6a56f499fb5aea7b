import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../../src/clock/clock.js'
import { ConformalStore } from '../../../src/conformal/store.js'
import { encodeState, writeFileAtomic } from '../../../src/conformal/state-file.js'
import { capturingLogger } from '../../helpers/log-lines.js'
import { makeTmpDir } from '../../helpers/tmp-files.js'

const A = { target_coverage: 0.8, quantile_level: 0.9, center_shift: 0.05, width_scale: 1.3, sample_size: 200 }
const B = { ...A, center_shift: -0.02 }
const text = (a: typeof A): string => encodeState({ default: a, segments: new Map(), segmentFields: [], metadata: {} }, 'now')
const tmp = makeTmpDir('tsfm-store-')
const stores: ConformalStore[] = []
afterEach(() => stores.splice(0).forEach((s) => s.close()))
afterAll(() => tmp.remove())

function store(path: string | null, watchIntervalMs = 0) {
  const log = capturingLogger()
  const s = new ConformalStore({ path, watchIntervalMs, clock: systemClock, logger: log.logger })
  stores.push(s)
  return { s, lines: log.lines }
}

const any = { category: null, liquidity_bucket: null, tte_bucket: null }

async function until(ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('the conformal store', () => {
  it('loads nothing and says so without a path', async () => {
    const { s } = store(null)
    expect(await s.start()).toEqual({ kind: 'none', reason: 'conformal.state_path is not set' })
    expect(s.choose(any)).toEqual({ loaded: false, key: null, adjustment: null })
  })

  it('starts without an adjustment and warns, naming the file, when it is missing', async () => {
    const path = `${tmp.dir}/missing.json`
    const { s, lines } = store(path)
    expect((await s.start()).kind).toBe('none')
    expect(s.choose(any).loaded).toBe(false)
    const warn = lines().find((l) => l.event === 'conformal_state_not_loaded')
    expect(warn?.path).toBe(path)
    expect(String(warn?.msg)).toMatch(/ENOENT.*conformal_last_step null/)
  })

  it('picks up a file that appears after start, by watching its path', async () => {
    const path = `${tmp.dir}/later.json`
    const { s } = store(path, 10)
    await s.start()
    await writeFileAtomic(path, text(A))
    await until(() => s.choose(any).loaded)
    expect(s.choose(any).adjustment).toEqual(A)
  })

  it('follows a file replaced by rename, and keeps the state in use when the new one is invalid', async () => {
    const path = tmp.write('follow.json', text(A))
    const { s, lines } = store(path, 10)
    await s.start()
    await writeFileAtomic(path, text(B))
    await until(() => s.choose(any).adjustment?.center_shift === B.center_shift)
    await writeFileAtomic(path, '{"adjustment": {"width_scale": []}}')
    await until(() => lines().some((l) => l.event === 'conformal_state_kept'))
    expect(s.choose(any).adjustment).toEqual(B)
    expect(s.status()).toMatchObject({ state_path: path, loaded: true, segments: 0, schema_version: 1 })
  })

  it('shares one read between concurrent reloads', async () => {
    const path = tmp.write('shared.json', text(A))
    const { s } = store(path)
    await s.start()
    const [x, y] = [s.reload(), s.reload()]
    expect(x).toBe(y)
    expect((await x).kind).toBe('loaded')
  })
})
