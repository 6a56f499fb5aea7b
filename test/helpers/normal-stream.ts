/**
 * A seeded source of uniform and standard normal draws for statistical simulations: sfc32
 * (Chris Doty-Humphrey's Small Fast Counting generator, passes PractRand to 2^40+ bytes; the
 * project's mulberry32 in src/sim/prng.ts is meant for fault draws) and Box–Muller. The same
 * seed gives the same sequence everywhere; no Math.random.
 */
export class NormalStream {
  #a: number
  #b: number
  #c: number
  #d = 1
  #spare = Number.NaN

  constructor(seed: number) {
    this.#a = 0x9e3779b9
    this.#b = 0x243f6a88
    this.#c = seed >>> 0
    // The generator's authors discard the first outputs so that similar seeds decorrelate.
    for (let i = 0; i < 15; i++) this.uniform()
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t / 4294967296
  }

  /** Standard normal (Box–Muller; the second draw of each pair is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.#spare)) {
      const s = this.#spare
      this.#spare = Number.NaN
      return s
    }
    const u = 1 - this.uniform() // (0, 1]: log stays finite
    const v = this.uniform()
    const r = Math.sqrt(-2 * Math.log(u))
    this.#spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
}
