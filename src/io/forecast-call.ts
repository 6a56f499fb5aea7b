import type { Clock } from '../clock/clock.js'
import { DEADLINE, INVALID_PAYLOAD, NOT_FOUND, ROUTE_MISSING, UNAVAILABLE, type Failure } from './classify.js'
import type { PendingJob } from './batcher.js'
import type { TollamaClient } from './client.js'
import { parseForecastAnswer } from './parse.js'
import { attemptTimeoutMs, decideRetry, type RetryConfig } from './retry.js'
import type { UpstreamOutcome, UpstreamRequestRecord } from './types.js'
import { assignSeriesIds, attemptBody, buildForecastBody } from './wire.js'

/**
 * One multiplexed group through its attempts (SPEC §4): build the body once, send it with an
 * attempt timeout cut to the earliest member's deadline, switch route on a route 404 (at once,
 * not counted as a retry), retry per the policy, then split the answer by series id.
 *
 * Outcomes are per member: a failed request fails every member individually (each counts for
 * the breaker), and one member's bad series fails only that member. `attempts` is the number of
 * HTTP requests that carried the job (a route switch adds one, as does a retry).
 */
export interface CallContext {
  readonly clock: Clock
  readonly client: TollamaClient
  readonly retry: RetryConfig
  readonly random: () => number
  /** Settles one job once (later calls for a settled job are ignored by the engine). */
  readonly settle: (p: PendingJob, outcome: UpstreamOutcome) => void
  readonly record: (r: UpstreamRequestRecord) => void
  readonly counters: CallCounters
  /** True once the actor is closing: no new attempt starts. */
  readonly closed: () => boolean
}

export class CallCounters {
  requests_sent = 0
  series_sent = 0
  retries = 0
}

/** Bytes of answer we accept for a group: ~40 B per number, generously, and at least 1 MiB. */
function answerLimit(series: number, quantiles: number, horizon: number): number {
  return Math.max(1 << 20, series * (quantiles + 1) * horizon * 64 + 65_536)
}

function failAll(ctx: CallContext, group: readonly PendingJob[], failure: Failure, attempts: number, batchId: number): void {
  const now = ctx.clock.now()
  for (const p of group) {
    ctx.settle(p, { ticket: p.job.ticket, ok: false, reason: failure.reason, attempts, upstream_ms: now - p.receivedAt, batch_size: group.length, batch_id: batchId })
  }
}

/** Ids of multiplexed groups, unique within the I/O thread (positive; the host uses negatives). */
let lastBatchId = 0

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms))
}

/** Runs `group` to completion; never rejects (a bug fails the members as unavailable). */
export async function runForecastGroup(ctx: CallContext, group: readonly PendingJob[]): Promise<void> {
  let attempts = 0
  const batchId = ++lastBatchId
  try {
    attempts = await attemptAll(ctx, group, batchId)
  } catch {
    failAll(ctx, group, UNAVAILABLE, attempts, batchId)
  }
}

async function attemptAll(ctx: CallContext, group: readonly PendingJob[], batchId: number): Promise<number> {
  const n = group.length
  const jobs = group.map((p) => p.job)
  const head = jobs[0]!
  let deadline = head.deadline
  let jobTimeout = head.attempt_timeout_ms
  let maxRetries = head.max_retries
  for (const j of jobs) {
    if (j.deadline < deadline) deadline = j.deadline
    if (j.attempt_timeout_ms < jobTimeout) jobTimeout = j.attempt_timeout_ms
    if (j.max_retries < maxRetries) maxRetries = j.max_retries
  }
  const pp = ctx.retry.postprocess_budget_ms
  // No attempt fits before the deadline: answer now, without building 200 KB of body.
  if (attemptTimeoutMs(jobTimeout, deadline, ctx.clock.now(), pp) <= 0) {
    failAll(ctx, group, DEADLINE, 0, batchId)
    return 0
  }
  const ids = assignSeriesIds(jobs)
  const body = buildForecastBody(jobs, ids)
  const maxBytes = answerLimit(n, head.quantiles.length, head.horizon)
  let attempts = 0
  let retries = 0
  let switched = false
  let last: Failure = DEADLINE

  for (;;) {
    if (ctx.closed()) {
      failAll(ctx, group, UNAVAILABLE, attempts, batchId)
      return attempts
    }
    const start = ctx.clock.now()
    const timeout = attemptTimeoutMs(jobTimeout, deadline, start, pp)
    if (timeout <= 0) {
      failAll(ctx, group, last, attempts, batchId)
      return attempts
    }
    const path = ctx.client.forecastPath
    attempts++
    ctx.counters.requests_sent++
    ctx.counters.series_sent += n
    const res = await ctx.client.forecast(path, attemptBody(body, path, timeout), timeout, maxBytes)
    const end = ctx.clock.now()

    if (res.kind === 'ok') {
      const answers = parseForecastAnswer(res.text, jobs, ids)
      let valid = 0
      for (let i = 0; i < n; i++) {
        const p = group[i]!
        const values = answers[i]!
        const upstream_ms = end - p.receivedAt
        if (values === null) {
          ctx.settle(p, { ticket: p.job.ticket, ok: false, reason: INVALID_PAYLOAD.reason, attempts, upstream_ms, batch_size: n, batch_id: batchId })
        } else {
          valid++
          ctx.settle(p, { ticket: p.job.ticket, ok: true, values, attempts, upstream_ms, batch_size: n, batch_id: batchId })
        }
      }
      ctx.record({ endpoint: path, outcome: valid > 0 ? 'ok' : INVALID_PAYLOAD.reason, ms: end - start, series: n })
      return attempts
    }

    if (res.kind === ROUTE_MISSING) {
      ctx.record({ endpoint: path, outcome: NOT_FOUND.reason, ms: end - start, series: n })
      if (!switched) {
        // The other route, right away: a capability switch, not a retry.
        switched = true
        ctx.client.switchRoute(path)
        continue
      }
      failAll(ctx, group, NOT_FOUND, attempts, batchId)
      return attempts
    }

    last = res.failure
    ctx.record({ endpoint: path, outcome: last.reason, ms: end - start, series: n })
    const decision = decideRetry(
      { failure: last, retriesDone: retries, maxRetries, deadline, now: ctx.clock.now(), retryAfterMs: res.retryAfterMs },
      ctx.retry,
      ctx.random,
    )
    if (!decision.retry || ctx.closed()) {
      failAll(ctx, group, last, attempts, batchId)
      return attempts
    }
    retries++
    ctx.counters.retries++
    await sleep(ctx.clock, decision.delayMs)
  }
}
