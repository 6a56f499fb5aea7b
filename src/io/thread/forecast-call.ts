import type { Clock } from '../../clock/clock.js'
import { DEADLINE, INVALID_PAYLOAD, NOT_FOUND, ROUTE_MISSING, UNAVAILABLE, type Failure } from './classify.js'
import type { PendingJob } from './pending-job.js'
import type { AttemptObserver, AttemptVerdict } from './lane/lane.js'
import { isCallerFault } from '../../reasons.js'
import type { ForecastResult, TollamaClient } from './client.js'
import { parseForecastAnswer } from './parse.js'
import { attemptTimeoutMs, decideRetry, type RetryConfig } from './retry.js'
import type { UpstreamJob, UpstreamOutcome, UpstreamRequestRecord } from '../types.js'
import { assignSeriesIds, attemptBody, buildForecastBody, type WireBody } from './wire.js'
import type { Cancel } from './cancel.js'
import { memberIdsHeader, upstreamRequestId } from './upstream-ids.js'

/**
 * One multiplexed group through its attempts (SPEC §4, §7). Sharing a request must not cost a
 * member its own budget: a probe or an end-of-cycle job (short deadline, no retries) in the same
 * group as fresh jobs must not cut their attempt timeout or their retry — the timeouts that cut
 * would cause count against the breaker. So each member keeps its own deadline and allowance:
 *
 * - a member's limit for an attempt is `min(attempt_timeout_ms, deadline − now − postprocess)`;
 *   a member whose limit is gone fails alone, at once (`deadline_exceeded` before the first
 *   attempt), and the body is built only for the members that go;
 * - the HTTP timeout is the largest live member's limit. A member whose own deadline passes while
 *   the attempt runs for the others needs no timer here: the host fails its ticket at the deadline
 *   and drops what comes later (io-host.ts);
 * - after a failed attempt each member decides alone (`decideRetry`: its retries left, its
 *   deadline, the server's Retry-After); members that will not retry are settled with the failure
 *   now, and the retry carries only the members that retry (its body rebuilt for them);
 * - a route 404 switches route and re-sends the same members at once: a capability switch, not
 *   a retry.
 *
 * Outcomes are per member, all with the group's one `batch_id` (the supervisor counts one failed
 * upstream request once toward consecutive breaker failures), and one UpstreamRequestRecord per
 * HTTP request. One member's bad series fails only that member.
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
}

export class CallCounters {
  requests_sent = 0
  series_sent = 0
  retries = 0
  /** Hedge requests sent (hedge-call.ts), and members they answered first. */
  hedges = 0
  hedge_wins = 0
}

/** Bytes of answer we accept for a group: ~40 B per number, generously, and at least 1 MiB. */
export function answerLimit(series: number, quantiles: number, horizon: number): number {
  return Math.max(1 << 20, series * (quantiles + 1) * horizon * 64 + 65_536)
}

/**
 * `p` fails with `failure`; `batchSize` is the size of the request that last carried it, and
 * `requestId` that request's `X-Request-Id` (null when none was sent yet).
 */
function fail(ctx: CallContext, p: PendingJob, failure: Failure, batchSize: number, batchId: number, requestId: string | null, now: number): void {
  ctx.settle(p, { ticket: p.job.ticket, ok: false, reason: failure.reason, attempts: p.attempts, upstream_ms: now - p.receivedAt, batch_size: batchSize, batch_id: batchId, upstream_request_id: requestId })
}

function failEach(ctx: CallContext, members: readonly PendingJob[], failure: Failure, batchSize: number, batchId: number, requestId: string | null): void {
  const now = ctx.clock.now()
  for (const p of members) fail(ctx, p, failure, batchSize, batchId, requestId, now)
}

/** A member's own limit for an attempt starting `now` (≤ 0: no attempt fits any more). */
function limitOf(p: PendingJob, now: number, postprocessMs: number): number {
  return attemptTimeoutMs(p.job.attempt_timeout_ms, p.job.deadline, now, postprocessMs)
}

/**
 * The members for whom an attempt starting `now` still fits; each other member is settled with
 * `failure` now. `members` itself when all fit (the usual case allocates nothing).
 */
function keepFitting(
  ctx: CallContext,
  members: readonly PendingJob[],
  now: number,
  failure: Failure,
  batchSize: number,
  batchId: number,
  requestId: string | null,
): readonly PendingJob[] {
  const pp = ctx.retry.postprocess_budget_ms
  let kept: PendingJob[] | null = null
  for (let i = 0; i < members.length; i++) {
    const p = members[i]!
    if (limitOf(p, now, pp) > 0) {
      kept?.push(p)
      continue
    }
    kept ??= members.slice(0, i)
    fail(ctx, p, failure, batchSize, batchId, requestId, now)
  }
  return kept ?? members
}

/** The HTTP timeout of an attempt: the largest live member's own limit. */
export function attemptTimeout(members: readonly PendingJob[], now: number, postprocessMs: number): number {
  let timeout = 0
  for (const p of members) {
    const limit = limitOf(p, now, postprocessMs)
    if (limit > timeout) timeout = limit
  }
  return timeout
}

/** Ids of multiplexed groups, unique within the I/O thread (positive; the host uses negatives). */
let lastBatchId = 0

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms))
}

/** The attempt's verdict on the upstream, for its lane's limiter and cost model. */
function verdictOf(failure: Failure): AttemptVerdict {
  return isCallerFault(failure.reason) ? 'neutral' : 'drop'
}

const noObserver: AttemptObserver = () => undefined
const noRelease = (): void => undefined
const noReroute = (): TollamaClient | null => null

/**
 * Runs `group` to completion; never rejects (a bug fails the members not yet settled as
 * unavailable). `observe` hears of every HTTP attempt: its series, its number (1 = first),
 * duration and verdict; `release` is called when the group stops occupying the upstream before
 * it ends (it enters a retry backoff). `reroute` is asked before each retry: with several
 * replicas, another replica's client when this one went down meanwhile (its members then retry
 * there, inside their own deadlines, instead of on a replica known to refuse), else null.
 */
export async function runForecastGroup(
  ctx: CallContext,
  group: readonly PendingJob[],
  observe: AttemptObserver = noObserver,
  release: () => void = noRelease,
  reroute: () => TollamaClient | null = noReroute,
  cancel: Cancel | null = null,
): Promise<void> {
  const batchId = ++lastBatchId
  // One id for every attempt of the group (upstream-ids.ts): it names the batch, not the attempt.
  const requestId = upstreamRequestId(group)
  try {
    await attemptAll(ctx, group, batchId, requestId, observe, release, reroute, cancel)
  } catch {
    failEach(ctx, group, UNAVAILABLE, group.length, batchId, requestId)
  }
}

/**
 * The members going upstream, the body built for exactly them and the list of their callers'
 * request ids (rebuilt when they change).
 */
export class Carried {
  readonly members: readonly PendingJob[]
  readonly jobs: readonly UpstreamJob[]
  readonly ids: string[]
  readonly body: WireBody
  /** `X-Tsfm-Request-Ids` (upstream-ids.ts), or null. */
  readonly memberIds: string | null

  /** `requestId`: the request's `X-Request-Id` (upstream-ids.ts). */
  constructor(members: readonly PendingJob[], requestId: string) {
    this.members = members
    this.jobs = members.map((p) => p.job)
    this.ids = assignSeriesIds(this.jobs)
    this.body = buildForecastBody(this.jobs, this.ids)
    this.memberIds = memberIdsHeader(this.jobs, requestId)
  }
}

async function attemptAll(
  ctx: CallContext,
  group: readonly PendingJob[],
  batchId: number,
  requestId: string,
  observe: AttemptObserver,
  release: () => void,
  reroute: () => TollamaClient | null,
  cancel: Cancel | null,
): Promise<void> {
  const head = group[0]!.job
  let client = ctx.client
  const pp = ctx.retry.postprocess_budget_ms
  // Members with no attempt left fail now, without a place in the body (nor a request id).
  let live = keepFitting(ctx, group, ctx.clock.now(), DEADLINE, group.length, batchId, null)
  let carried: Carried | null = null
  let switched = false
  let last: Failure = DEADLINE
  let attempt = 0

  while (live.length > 0) {
    if (carried === null || carried.members !== live) carried = new Carried(live, requestId)
    const n = live.length
    const start = ctx.clock.now()
    const timeout = attemptTimeout(live, start, pp)
    const path = client.forecastPath
    for (const p of live) p.attempts++
    attempt++
    ctx.counters.requests_sent++
    ctx.counters.series_sent += n
    const res = await client.forecast(path, attemptBody(carried.body, path, timeout), timeout, answerLimit(n, head.quantiles.length, head.horizon), cancel, requestId, carried.memberIds)
    const end = ctx.clock.now()
    // Its hedge answered every member (and cancelled it): nothing to settle, nothing learnt.
    if (res.kind === 'cancelled') return observe(n, attempt, end - start, 'neutral')

    if (res.kind === 'ok') {
      const valid = split(ctx, carried, res.text, end, batchId, requestId)
      // The request's own outcome: `ok` if it answered anyone.
      ctx.record({ endpoint: path, outcome: valid > 0 ? 'ok' : INVALID_PAYLOAD.reason, ms: end - start, series: n })
      observe(n, attempt, end - start, valid > 0 ? 'ok' : 'drop')
      return
    }
    if (res.kind === ROUTE_MISSING) {
      ctx.record({ endpoint: path, outcome: NOT_FOUND.reason, ms: end - start, series: n })
      observe(n, attempt, end - start, 'neutral')
      if (switched) return failEach(ctx, live, NOT_FOUND, n, batchId, requestId)
      // The other route, right away, for the same members: a capability switch, not a retry.
      switched = true
      client.switchRoute(path)
    } else {
      last = res.failure
      ctx.record({ endpoint: path, outcome: last.reason, ms: end - start, series: n })
      observe(n, attempt, end - start, verdictOf(last), last.reason)
      const retry = retrying(ctx, live, res, n, batchId, requestId)
      if (retry.members.length === 0) return
      ctx.counters.retries++
      for (const p of retry.members) p.retries++
      // The backoff holds nothing upstream: hand the lane its slot back, so other batches go
      // meanwhile (a failing upstream otherwise stalls its whole lane for every backoff).
      release()
      await sleep(ctx.clock, retry.delayMs)
      client = reroute() ?? client
      live = retry.members
    }
    // The backoff (or a slow switch) may have used up some members' budgets.
    live = keepFitting(ctx, live, ctx.clock.now(), last, n, batchId, requestId)
  }
}

/**
 * After a failed attempt each member decides alone whether to retry; those that will not are
 * settled with the failure now. The members that retry share one retry request, so one jitter
 * draw serves them all (drawn only if someone may retry, as for a lone job).
 */
function retrying(ctx: CallContext, live: readonly PendingJob[], res: FailedAttempt, batchSize: number, batchId: number, requestId: string): Retry {
  const now = ctx.clock.now()
  let draw = -1
  const random = (): number => (draw < 0 ? (draw = ctx.random()) : draw)
  let kept: PendingJob[] | null = null
  let delayMs = 0
  for (let i = 0; i < live.length; i++) {
    const p = live[i]!
    const decision = decideRetry(
      { failure: res.failure, retriesDone: p.retries, maxRetries: p.job.max_retries, deadline: p.job.deadline, now, retryAfterMs: res.retryAfterMs },
      ctx.retry,
      random,
    )
    if (decision.retry) {
      delayMs = decision.delayMs
      kept?.push(p)
      continue
    }
    kept ??= live.slice(0, i)
    fail(ctx, p, res.failure, batchSize, batchId, requestId, now)
  }
  return new Retry(kept ?? live, delayMs)
}

type FailedAttempt = Extract<ForecastResult, { kind: 'failed' }>

/** The members of the next attempt and the backoff before it (the same for all of them). */
class Retry {
  readonly members: readonly PendingJob[]
  readonly delayMs: number

  constructor(members: readonly PendingJob[], delayMs: number) {
    this.members = members
    this.delayMs = delayMs
  }
}

/**
 * Splits a 200 answer by series id: each member succeeds or fails on its own series. Returns how
 * many succeeded.
 */
function split(ctx: CallContext, carried: Carried, text: string, end: number, batchId: number, requestId: string): number {
  const { members } = carried
  const n = members.length
  const answers = parseForecastAnswer(text, carried.jobs, carried.ids)
  let valid = 0
  for (let i = 0; i < n; i++) {
    const p = members[i]!
    const values = answers[i]!
    const upstream_ms = end - p.receivedAt
    if (values === null) {
      ctx.settle(p, { ticket: p.job.ticket, ok: false, reason: INVALID_PAYLOAD.reason, attempts: p.attempts, upstream_ms, batch_size: n, batch_id: batchId, upstream_request_id: requestId })
    } else {
      valid++
      ctx.settle(p, { ticket: p.job.ticket, ok: true, values, attempts: p.attempts, upstream_ms, batch_size: n, batch_id: batchId })
    }
  }
  return valid
}
