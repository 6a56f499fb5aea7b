/**
 * mulberry32: a 32-bit seeded PRNG, enough for reproducible fault draws (not for statistics).
 * The same seed gives the same sequence on every platform.
 */
export class Prng {
  #state: number

  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The same generator as a plain function, for code that takes a `random: () => number`. */
export function seededRandom(seed: number): () => number {
  const p = new Prng(seed)
  return () => p.next()
}
