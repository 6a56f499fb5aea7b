import { NOT_FOUND } from './classify.js'
import type { Cancel } from './cancel.js'
import { answerLimit, attemptTimeout, Carried, type CallContext } from './forecast-call.js'
import { parseForecastAnswer } from './parse.js'
import type { PendingJob } from './pending-job.js'
import { upstreamRequestId } from './upstream-ids.js'
import { attemptBody } from './wire.js'

/**
 * The hedge of a batch (SPEC §7, issue "scale-out" item 2): the same series of its still
 * unanswered `priority: high` members, once, to another replica. It only ever answers: a member
 * whose series came back valid is settled with it (the engine settles a job once, so whichever
 * request answers first wins); a failure, a timeout or a damaged series settles nothing — the
 * original request still owns its members, their retries and their fallbacks. So a hedge can
 * make an answer earlier, never a failure, and the breaker never hears of it.
 *
 * Resolves when the hedge is over, with whether it answered every member it carried.
 */
export async function runHedge(ctx: CallContext, members: readonly PendingJob[], cancel: Cancel): Promise<boolean> {
  const start = ctx.clock.now()
  const pp = ctx.retry.postprocess_budget_ms
  const timeout = attemptTimeout(members, start, pp)
  if (timeout <= 0 || members.length === 0) return false
  const requestId = upstreamRequestId(members)
  const carried = new Carried(members, requestId)
  const head = members[0]!.job
  const n = members.length
  const path = ctx.client.forecastPath
  ctx.counters.requests_sent++
  ctx.counters.series_sent += n
  ctx.counters.hedges++
  const res = await ctx.client.forecast(path, attemptBody(carried.body, path, timeout), timeout, answerLimit(n, head.quantiles.length, head.horizon), cancel, requestId, carried.memberIds)
  const end = ctx.clock.now()
  if (res.kind === 'cancelled') return false
  ctx.record({ endpoint: path, outcome: res.kind === 'ok' ? 'ok' : res.kind === 'failed' ? res.failure.reason : NOT_FOUND.reason, ms: end - start, series: n })
  if (res.kind !== 'ok') return false
  const answers = parseForecastAnswer(res.text, carried.jobs, carried.ids)
  let all = true
  for (let i = 0; i < n; i++) {
    const p = members[i]!
    const values = answers[i]
    if (values === null || values === undefined) {
      all = false
      continue
    }
    if (p.settled) continue
    ctx.counters.hedge_wins++
    ctx.settle(p, { ticket: p.job.ticket, ok: true, values, attempts: p.attempts + 1, upstream_ms: end - p.receivedAt, batch_size: n, batch_id: 0 })
  }
  return all
}
