import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Inbound auth (SPEC §2.1): `Authorization: Bearer <token>` or `X-API-Key: <token>`, compared in
 * constant time. Both sides are hashed first so the comparison takes the same time whatever the
 * presented token's length (timingSafeEqual needs equal lengths and would otherwise leak it).
 */
export class TokenAuth {
  readonly #expected: readonly Buffer[]

  /** Several tokens for rotation: the old and the new one are both accepted while clients move. */
  constructor(tokens: string | readonly string[]) {
    this.#expected = (typeof tokens === 'string' ? [tokens] : tokens).map(digest)
  }

  get size(): number {
    return this.#expected.length
  }

  /** The presented token from the headers, or null when none was sent. */
  static presented(authorization: string | undefined, apiKey: string | string[] | undefined): string | null {
    if (typeof authorization === 'string') {
      const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization)
      if (m !== null) return m[1] as string
    }
    if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey
    return null
  }

  check(presented: string | null): boolean {
    return this.match(presented) >= 0
  }

  /**
   * Which configured token was presented (its index: the caller's rate-limit bucket), or -1.
   * Every token is compared, with no early exit, so the time does not tell which one matched.
   */
  match(presented: string | null): number {
    if (presented === null) return -1
    const d = digest(presented)
    let found = -1
    for (let i = 0; i < this.#expected.length; i++) if (timingSafeEqual(d, this.#expected[i] as Buffer) && found < 0) found = i
    return found
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}
