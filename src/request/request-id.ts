/**
 * The one rule for a caller's request id (issue 13), shared by the HTTP daemon's `X-Request-Id`
 * and the embedding API's `requestId` option: 1–128 visible ASCII characters (no spaces, no
 * control characters), so it is safe to echo in a response header, to send upstream and to log.
 * An id that breaks the rule is not an error: the HTTP daemon replaces it with a UUID, the
 * embedding API treats it as absent (the upstream request then gets a generated id). A request
 * is never refused for its id.
 */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/

/** `value` if it is a usable request id, else null. */
export function validRequestId(value: unknown): string | null {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : null
}
