import { randomBytes } from 'node:crypto'
import type { UpstreamJob } from '../types.js'

/**
 * The request ids an upstream forecast request carries (issue 13; Envoy's x-request-id
 * propagation, adapted to batching — README "Request ids"):
 *
 * - `X-Request-Id`: a request that carries one series whose caller gave an id carries that id,
 *   so a lone request reads the same in our logs and tollama's. Any other request (several
 *   series, or one without an id) gets a fresh id of its own. Every attempt of one batch —
 *   retries, a route switch — sends the same id, as Envoy does for retries: it names the batch,
 *   not the attempt. A hedge is another request of a subset of the batch, so it gets its id by
 *   the same rule from its own members.
 * - `X-Tsfm-Request-Ids`: the callers' ids of the series a request carries, comma-separated, each
 *   once, in batch order — at most MEMBER_IDS_MAX_BYTES (a 128-series batch of 128-character ids
 *   would be 16 KiB, past what many servers accept in a header): the ids that do not fit are
 *   counted in a last `+N` item. Absent when no series has an id, or when the one id is the
 *   request's own `X-Request-Id` (a lone series). So a batch that a deadline or a retry leaves
 *   with one series still names its caller, under the batch's id.
 *
 * A fresh id is a per-thread random prefix and a counter: unique across daemons and thread
 * restarts (48 random bits), without a UUID's cost on every request.
 */
const PREFIX = `tsfm-${randomBytes(6).toString('hex')}-`
let last = 0

/** Header of the callers' ids in a multiplexed request. */
export const MEMBER_IDS_HEADER = 'x-tsfm-request-ids'
/** Bound of that header's value, in bytes (ids are ASCII: one byte a character). */
export const MEMBER_IDS_MAX_BYTES = 4096
/** Room kept for the `,+N` item (N up to 6 digits). */
const MORE_RESERVE = 8

/** The id of warm-up forecasts: no caller, and one fixed name is easy to filter out upstream. */
export const WARMUP_REQUEST_ID = 'tsfm-warmup'

/** A new id for an upstream request, unique to it. */
export function freshRequestId(): string {
  return PREFIX + (++last).toString(36)
}

/** The `X-Request-Id` of a request carrying `members` (see above). */
export function upstreamRequestId(members: readonly { readonly job: UpstreamJob }[]): string {
  return members.length === 1 ? (members[0]!.job.request_id ?? freshRequestId()) : freshRequestId()
}

/**
 * The `X-Tsfm-Request-Ids` value of a request carrying `jobs` under `requestId`, or null when it
 * has none to list.
 */
export function memberIdsHeader(jobs: readonly UpstreamJob[], requestId: string): string | null {
  if (jobs.length === 1 && jobs[0]!.request_id === requestId) return null
  let seen: Set<string> | null = null
  let value = ''
  let more = 0
  for (const job of jobs) {
    const id = job.request_id
    if (id === null) continue
    seen ??= new Set()
    if (seen.has(id)) continue
    seen.add(id)
    if (more === 0 && value.length + (value === '' ? 0 : 1) + id.length <= MEMBER_IDS_MAX_BYTES - MORE_RESERVE) {
      value = value === '' ? id : `${value},${id}`
    } else {
      more++
    }
  }
  if (value === '' && more === 0) return null
  return more === 0 ? value : `${value},+${more}`
}
