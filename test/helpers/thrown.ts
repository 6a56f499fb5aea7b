import { TsfmError } from '../../src/errors.js'

/** The TsfmError `fn` throws; fails the test if it returns or throws anything else. */
export function thrown(fn: () => unknown): TsfmError {
  try {
    fn()
  } catch (e) {
    if (e instanceof TsfmError) return e
    throw new Error(`expected a TsfmError, got ${String(e)}`)
  }
  throw new Error('expected a TsfmError, but nothing was thrown')
}
