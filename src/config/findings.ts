import { TsfmError } from '../errors.js'

export type ConfigErrorCode = 'TSFM_CONFIG_INVALID' | 'TSFM_CONFIG_UNKNOWN_KEY'

export interface ConfigIssue {
  readonly code: ConfigErrorCode
  readonly path: string
  readonly message: string
}

/**
 * Everything one configuration pass found. Validation does not stop at the first problem: an
 * operator fixing a file at 3 a.m. should see every mistake in one run, not one per restart.
 */
export class Findings {
  /** Set before any document is read (TSFM_STRICT_CONFIG is read first). */
  strict: boolean
  readonly errors: ConfigIssue[] = []
  readonly warnings: string[] = []
  /** Info-level: accepted keys we deliberately ignore (e.g. the Python service's `slo`). */
  readonly notes: string[] = []

  constructor(strict: boolean) {
    this.strict = strict
  }

  error(code: ConfigErrorCode, path: string, message: string): void {
    // An alias that fills two keys reports one bad value once, not twice.
    if (this.errors.some((e) => e.message === message)) return
    this.errors.push({ code, path, message })
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message)
  }

  note(message: string): void {
    if (!this.notes.includes(message)) this.notes.push(message)
  }

  /** A key nothing knows: a warning, or an error under `--strict-config`. */
  unknownKey(path: string, suggestion: string | undefined): void {
    const hint = suggestion === undefined ? '' : `; did you mean ${suggestion}?`
    if (this.strict) this.error('TSFM_CONFIG_UNKNOWN_KEY', path, `unknown key ${path}${hint}`)
    else this.warn(`unknown key ${path} (ignored)${hint}`)
  }

  /** One TsfmError listing every error on its own line; code and path are the first error's. */
  throwIfErrors(): void {
    const first = this.errors[0]
    if (first === undefined) return
    throw new TsfmError(first.code, this.errors.map((e) => e.message).join('\n'), first.path)
  }
}
