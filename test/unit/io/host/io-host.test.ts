import { describe, expect, it } from 'vitest'
import { CLOSE_MARGIN_MS, CLOSE_TIMEOUT_MAX_MS, closeTimeoutMs } from '../../../../src/io/host/io-host.js'

describe('closeTimeoutMs', () => {
  it('waits for the latest held deadline plus the margin', () => {
    expect(closeTimeoutMs(10_000 + 3_500, 10_000)).toBe(3_500 + CLOSE_MARGIN_MS)
  })

  it('gives only the margin when nothing is held or every deadline has passed', () => {
    expect(closeTimeoutMs(Number.NEGATIVE_INFINITY, 10_000)).toBe(CLOSE_MARGIN_MS)
    expect(closeTimeoutMs(9_000, 10_000)).toBe(CLOSE_MARGIN_MS)
  })

  it('never waits longer than its cap, whatever the deadlines', () => {
    expect(closeTimeoutMs(Number.POSITIVE_INFINITY, 10_000)).toBe(CLOSE_TIMEOUT_MAX_MS)
    expect(closeTimeoutMs(10_000 + 10 * CLOSE_TIMEOUT_MAX_MS, 10_000)).toBe(CLOSE_TIMEOUT_MAX_MS)
  })
})
