import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../../../src/config/defaults.js'
import { INVALID_PAYLOAD, TIMEOUT, UNAVAILABLE, classifyStatus, type Failure } from '../../../../src/io/thread/classify.js'
import { attemptTimeoutMs, decideRetry, parseRetryAfter, type RetryInput } from '../../../../src/io/thread/retry.js'

const CFG = DEFAULTS.adapter // backoff 120, jitter 80, envelope 250, postprocess 50
const T0 = 1_700_000_000_000
const HTTP_429 = classifyStatus(429, null) as Failure
const HTTP_500 = classifyStatus(500, null) as Failure

function input(over: Partial<RetryInput> = {}): RetryInput {
  return { failure: TIMEOUT, retriesDone: 0, maxRetries: 1, deadline: T0 + 1600, now: T0 + 400, retryAfterMs: null, ...over }
}

describe('decideRetry', () => {
  it('retries a retryable failure after backoff plus jitter', () => {
    expect(decideRetry(input(), CFG, () => 0)).toEqual({ retry: true, delayMs: 120 })
    expect(decideRetry(input(), CFG, () => 0.5)).toEqual({ retry: true, delayMs: 160 })
    expect(decideRetry(input(), CFG, () => 0.999999)).toEqual({ retry: true, delayMs: 199 })
  })

  it('never retries 500, an invalid payload or a missing model', () => {
    for (const failure of [HTTP_500, INVALID_PAYLOAD, classifyStatus(404, 'is not installed') as Failure]) {
      expect(decideRetry(input({ failure }), CFG, () => 0)).toEqual({ retry: false })
    }
  })

  it('stops when the retries are used up (and degraded mode allows none)', () => {
    expect(decideRetry(input({ retriesDone: 1 }), CFG, () => 0)).toEqual({ retry: false })
    expect(decideRetry(input({ maxRetries: 0 }), CFG, () => 0)).toEqual({ retry: false })
  })

  it('retries only if the envelope and post-processing still fit after the backoff', () => {
    // 1600 − 1180 − 120 = 300 = 250 + 50: just fits; one ms later it does not.
    expect(decideRetry(input({ now: T0 + 1180 }), CFG, () => 0)).toEqual({ retry: true, delayMs: 120 })
    expect(decideRetry(input({ now: T0 + 1181 }), CFG, () => 0)).toEqual({ retry: false })
  })

  it('honours a Retry-After longer than the backoff when it fits, and gives up when it does not', () => {
    expect(decideRetry(input({ failure: HTTP_429, now: T0 + 10, retryAfterMs: 1000 }), CFG, () => 0)).toEqual({ retry: true, delayMs: 1000 })
    expect(decideRetry(input({ failure: HTTP_429, now: T0 + 10, retryAfterMs: 1300 }), CFG, () => 0)).toEqual({ retry: false })
    expect(decideRetry(input({ failure: HTTP_429, retryAfterMs: 0 }), CFG, () => 0)).toEqual({ retry: true, delayMs: 120 })
  })

  it('never schedules a retry that would leave less than envelope + post-processing (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 5000 }), { nil: null }),
        (elapsed, r, retryAfterMs) => {
          const d = decideRetry(input({ failure: UNAVAILABLE, now: T0 + elapsed, retryAfterMs }), CFG, () => r)
          if (d.retry) {
            expect(T0 + 1600 - (T0 + elapsed) - d.delayMs).toBeGreaterThanOrEqual(300)
            expect(d.delayMs).toBeGreaterThanOrEqual(Math.max(120, retryAfterMs ?? 0))
          }
        },
      ),
    )
  })
})

describe('attemptTimeoutMs', () => {
  it('is the job timeout while the deadline is far', () => {
    expect(attemptTimeoutMs(1200, T0 + 1600, T0 + 100, 50)).toBe(1200)
  })

  it('is cut so post-processing fits before the deadline', () => {
    expect(attemptTimeoutMs(1200, T0 + 1600, T0 + 500, 50)).toBe(1050)
    expect(attemptTimeoutMs(1200, T0 + 1600, T0 + 1600, 50)).toBe(-50)
  })
})

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('1', T0)).toBe(1000)
    expect(parseRetryAfter(' 120 ', T0)).toBe(120_000)
    expect(parseRetryAfter(new Date(T0 + 3000).toUTCString(), T0)).toBe(3000)
    expect(parseRetryAfter(new Date(T0 - 3000).toUTCString(), T0)).toBe(0)
  })

  it('is null when absent or unreadable', () => {
    expect(parseRetryAfter(null, T0)).toBeNull()
    expect(parseRetryAfter(undefined, T0)).toBeNull()
    expect(parseRetryAfter('soon', T0)).toBeNull()
    expect(parseRetryAfter('-1', T0)).toBeNull()
  })
})
