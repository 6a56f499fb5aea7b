import { describe, expect, it } from 'vitest'
import { MathPool, type MathPoolOptions } from '../../../src/compute/math-pool.js'
import { isTsfmError } from '../../../src/errors.js'

// Options are checked before any thread starts, so these need no build and start nothing.

const BASE: MathPoolOptions = { threads: 1, inlineThreshold: 0, sink: () => {} }

describe('MathPool.start option checks', () => {
  it.each([
    [{ threads: -1 }, 'tsfm.perf.math_threads must be a non-negative integer, got -1', 'tsfm.perf.math_threads'],
    [{ threads: 1.5 }, 'tsfm.perf.math_threads must be a non-negative integer, got 1.5', 'tsfm.perf.math_threads'],
    [{ inlineThreshold: Number.NaN }, 'tsfm.perf.math_inline_threshold must be a non-negative number, got NaN', 'tsfm.perf.math_inline_threshold'],
    [{ inlineThreshold: -1 }, 'tsfm.perf.math_inline_threshold must be a non-negative number, got -1', 'tsfm.perf.math_inline_threshold'],
    [{ maxQueue: 0 }, 'math pool maxQueue must be a positive integer, got 0', null],
  ] as const)('refuses %o with a message that quotes the value', async (patch, message, path) => {
    const error = await MathPool.start({ ...BASE, ...patch }).catch((e: unknown) => e)
    expect(isTsfmError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'TSFM_CONFIG_INVALID', message, path })
  })

  it('refuses a sink that is not a function', async () => {
    const error = await MathPool.start({ ...BASE, sink: 'nope' as never }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TSFM_CONFIG_INVALID', message: 'math pool sink must be a function' })
  })
})
