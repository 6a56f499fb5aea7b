import { describe, expect, it } from 'vitest'
import { checkingIntervalMs } from '../../../src/http/node-server.js'

describe("how often Node checks the client time limits", () => {
  it('is a quarter of the shorter limit, kept within 50 ms … 1 s', () => {
    expect(checkingIntervalMs(10_000, 15_000)).toBe(1000)
    expect(checkingIntervalMs(500, 1000)).toBe(125)
    expect(checkingIntervalMs(100, 100)).toBe(50)
    expect(checkingIntervalMs(0, 2000)).toBe(500)
  })

  it("is Node's own default when there is no limit to check", () => {
    expect(checkingIntervalMs(0, 0)).toBe(30_000)
  })
})
