import { describe, expect, it } from 'vitest'
import type { TsfmError } from '../../../src/errors.js'
import type { ForecastResponse } from '../../../src/response.js'
import type { AnswerSink } from '../../../src/supervisor/flight.js'
import { harness, marketBody } from '../../helpers/supervisor-harness.js'

/**
 * Regression (reliability issue, item 9): when more than 65 536 messages were posted while one
 * was being handled, the supervisor handled the next one inline — a handler running inside
 * another handler, which the actor model exists to prevent.
 */
describe('the supervisor mailbox', () => {
  it('handles every message after the one that posted it, however many are posted', () => {
    const h = harness()
    const body = marketBody('hot', 10) // too_few_points: answered at once, and cached
    let inside = false
    let answeredInside = 0
    let answered = 0
    const follower: AnswerSink = {
      answer(_r: ForecastResponse) {
        answered++
        if (inside) answeredInside++
      },
      fail(_e: TsfmError) {},
    }
    const req = h.request(body)
    const first: AnswerSink = {
      answer() {
        inside = true
        for (let i = 0; i < 70_000; i++) h.sup.submit(req, follower)
        inside = false
      },
      fail() {},
    }
    h.sup.submit(req, first)
    expect(answeredInside).toBe(0)
    expect(answered).toBe(70_000)
    expect(h.sup.open).toBe(0)
  })
})
