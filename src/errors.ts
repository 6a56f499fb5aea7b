/**
 * The error catalogue: every error tsfm-runner raises or answers has a stable code here.
 * Codes never change meaning; messages may improve. HTTP answers carry
 * `{"detail": message, "error": {code, message, path}}`.
 *
 * test/unit/errors.test.ts checks that every code has an error status, is raised somewhere in
 * src/, and is documented in the README (whose table `make readme` generates from this one).
 */

export interface ErrorSpec {
  /** HTTP status used when the error reaches a client. */
  readonly status: number
  /** One line for the README's error table. */
  readonly description: string
}

export const ERRORS = {
  // ---- request validation (400) -------------------------------------------------------
  TSFM_INVALID_JSON: { status: 400, description: 'the body is not valid JSON' },
  TSFM_BODY_NOT_OBJECT: { status: 400, description: 'the body is not a JSON object' },
  TSFM_FIELD_REQUIRED: { status: 400, description: 'a required field is missing or null' },
  TSFM_FIELD_TYPE: { status: 400, description: 'a field has the wrong JSON type' },
  TSFM_FIELD_RANGE: { status: 400, description: 'a number or string length is outside its allowed range' },
  TSFM_Y_VALUE: { status: 400, description: '`y` is not an array, or one of its values is not a finite number in range for the transform' },
  TSFM_Y_LENGTH: { status: 400, description: '`y` has fewer than 2 or more than 20 000 points' },
  TSFM_FREQ: { status: 400, description: '`freq` is not `<n>m` or `<n>h` with n >= 1' },
  TSFM_HORIZON: { status: 400, description: '`horizon_steps` is not an integer in 1..1000' },
  TSFM_QUANTILES: { status: 400, description: '`quantiles` is empty, too long, duplicated or outside (0,1)' },
  TSFM_TIMESTAMP: { status: 400, description: '`as_of_ts` is not an ISO-8601 string or epoch seconds' },
  TSFM_Y_TS: { status: 400, description: '`y_ts` has the wrong length, is unparsable, not increasing, mixes zones or is off the `freq` grid' },
  TSFM_TRANSFORM: { status: 400, description: '`transform` has an unknown space or an eps outside (0, 0.01]' },
  TSFM_COVARIATES: { status: 400, description: '`x_past`/`x_future` is not an object of finite number arrays of the right length' },
  TSFM_MODEL: { status: 400, description: '`model` is not an object of the documented shape' },
  TSFM_CYCLE: { status: 400, description: 'a `/tsfm/cycle` body is not `{requests: [...], budget_ms}` within limits' },
  TSFM_OUTCOMES: { status: 400, description: 'a `/tsfm/outcomes` body is not `{outcomes: [...]}` of at most 2 000 outcomes, or an outcome is not `{market_id, as_of_ts, realized}` with `realized` in [0, 1]' },

  // ---- HTTP protection ----------------------------------------------------------------
  TSFM_UNAUTHORIZED: { status: 401, description: '`TSFM_API_TOKEN` is set and the request has no or a wrong `Authorization: Bearer` / `X-API-Key` (constant-time compare)' },
  TSFM_NOT_FOUND: { status: 404, description: 'no such route' },
  TSFM_CALIBRATION_OFF: { status: 409, description: 'outcomes were sent but `conformal.online.enabled` is false: they would not be used' },
  TSFM_METHOD_NOT_ALLOWED: { status: 405, description: 'the route exists but not for this method (the answer has `Allow`)' },
  TSFM_BODY_TOO_LARGE: { status: 413, description: 'the body is larger than `server.body_limit_bytes`' },
  TSFM_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'the body is not `application/json`' },
  TSFM_RATE_LIMITED: { status: 429, description: 'this identity exceeded its token bucket; see Retry-After' },
  TSFM_OVERLOADED: { status: 503, description: 'the admission limit is reached, or the event loop lags past `server.max_event_loop_delay_ms`; see Retry-After' },
  TSFM_SHUTTING_DOWN: { status: 503, description: 'the daemon is draining and accepts no new work' },
  TSFM_INTERNAL: { status: 500, description: 'an unexpected error (a bug); details are in the log only' },

  // ---- embedding API ------------------------------------------------------------------
  TSFM_RUNNER_CLOSED: { status: 503, description: 'the runner is closed or closing' },
  TSFM_ABORTED: { status: 499, description: 'the caller withdrew the request: its AbortSignal fired, or it stopped iterating its cycle' },

  // ---- configuration (start-up) -------------------------------------------------------
  TSFM_CONFIG_INVALID: { status: 500, description: 'a configuration value is invalid' },
  TSFM_CONFIG_UNKNOWN_KEY: { status: 500, description: 'an unknown configuration key (error only with --strict-config)' },
  TSFM_CONFIG_FILE: { status: 500, description: 'the configuration file cannot be read or parsed' },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERRORS

/** The one error class tsfm-runner throws. `path` is a JSON path (`y[3]`) or a config key path. */
export class TsfmError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly path: string | null

  constructor(code: ErrorCode, message: string, path: string | null = null) {
    super(message)
    this.name = 'TsfmError'
    this.code = code
    this.status = ERRORS[code].status
    this.path = path
  }

  /** The wire body: FastAPI's `detail` for old clients plus the structured error. */
  toBody(): { detail: string; error: { code: ErrorCode; message: string; path: string | null } } {
    return { detail: this.message, error: { code: this.code, message: this.message, path: this.path } }
  }
}

export function isTsfmError(e: unknown): e is TsfmError {
  return e instanceof TsfmError
}

/**
 * Quote a value for an error message: strings in double quotes, everything else as JSON,
 * cut to 80 characters so a 10 MB value never ends up in a message or a log line.
 */
export function quote(value: unknown): string {
  let text: string
  if (typeof value === 'string') text = JSON.stringify(value)
  else if (typeof value === 'number') text = Number.isNaN(value) ? 'NaN' : String(value)
  else if (value === undefined) text = 'undefined'
  else if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') text = typeof value
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
