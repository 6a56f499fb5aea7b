/**
 * A tiny seeded generator for statistical tests: splitmix32 uniforms and Box–Muller normals.
 * The same seed gives the same draws everywhere, so a coverage figure is reproducible; tests
 * never use Math.random.
 */
export interface Noise {
  /** Uniform in [0, 1). */
  uniform(): number
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number
  /** Standard normal. */
  normal(): number
}

export function seededNoise(seed: number): Noise {
  let state = seed >>> 0
  const uniform = (): number => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296
  }
  return {
    uniform,
    between: (lo, hi) => lo + (hi - lo) * uniform(),
    normal: () => {
      // 1 − u keeps the logarithm's argument in (0, 1].
      const u = 1 - uniform()
      const v = uniform()
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
  }
}
