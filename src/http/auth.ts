import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Inbound auth (SPEC §2.1): `Authorization: Bearer <token>` or `X-API-Key: <token>`, compared in
 * constant time. Both sides are hashed first so the comparison takes the same time whatever the
 * presented token's length (timingSafeEqual needs equal lengths and would otherwise leak it).
 */
export class TokenAuth {
  readonly #expected: Buffer

  constructor(token: string) {
    this.#expected = digest(token)
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
    if (presented === null) return false
    return timingSafeEqual(digest(presented), this.#expected)
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}
