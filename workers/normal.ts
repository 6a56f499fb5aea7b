/**
 * The standard normal quantile function Φ⁻¹(p) to full double precision: Wichura's algorithm AS241
 * (PPND16), Applied Statistics 37(3), 1988, pp. 477–484 — about 1 part in 10^16, so any quantile
 * set a request names gets its exact z (z₀.₉ = 1.2815515655446008). Rational approximations in
 * three regions: |p − 0.5| ≤ 0.425, then r = sqrt(−ln(min(p, 1 − p))) ≤ 5, then the far tails.
 *
 * The coefficients are Wichura's published 20-digit literals, verbatim, so they can be checked
 * against the paper (each rounds to the nearest double, which is all a double can hold).
 */
/* eslint-disable no-loss-of-precision -- the published literals are kept for transcription checks */

const SPLIT1 = 0.425
const SPLIT2 = 5
const CONST1 = 0.180625
const CONST2 = 1.6

// p close to 0.5
const A0 = 3.3871328727963666080
const A1 = 1.3314166789178437745e+2
const A2 = 1.9715909503065514427e+3
const A3 = 1.3731693765509461125e+4
const A4 = 4.5921953931549871457e+4
const A5 = 6.7265770927008700853e+4
const A6 = 3.3430575583588128105e+4
const A7 = 2.5090809287301226727e+3
const B1 = 4.2313330701600911252e+1
const B2 = 6.8718700749205790830e+2
const B3 = 5.3941960214247511077e+3
const B4 = 2.1213794301586595867e+4
const B5 = 3.9307895800092710610e+4
const B6 = 2.8729085735721942674e+4
const B7 = 5.2264952788528545610e+3

// p neither close to 0.5 nor to 0 or 1
const C0 = 1.42343711074968357734
const C1 = 4.63033784615654529590
const C2 = 5.76949722146069140550
const C3 = 3.64784832476320460504
const C4 = 1.27045825245236838258
const C5 = 2.41780725177450611770e-1
const C6 = 2.27238449892691845833e-2
const C7 = 7.74545014278341407640e-4
const D1 = 2.05319162663775882187
const D2 = 1.67638483018380384940
const D3 = 6.89767334985100004550e-1
const D4 = 1.48103976427480074590e-1
const D5 = 1.51986665636164571966e-2
const D6 = 5.47593808499534494600e-4
const D7 = 1.05075007164441684324e-9

// p close to 0 or 1
const E0 = 6.65790464350110377720
const E1 = 5.46378491116411436990
const E2 = 1.78482653991729133580
const E3 = 2.96560571828504891230e-1
const E4 = 2.65321895265761230930e-2
const E5 = 1.24266094738807843860e-3
const E6 = 2.71155556874348757815e-5
const E7 = 2.01033439929228813265e-7
const F1 = 5.99832206555887937690e-1
const F2 = 1.36929880922735805310e-1
const F3 = 1.48753612908506148525e-2
const F4 = 7.86869131145613259100e-4
const F5 = 1.84631831751005468180e-5
const F6 = 1.42151175831644588870e-7
const F7 = 2.04426310338993978564e-15

/**
 * Φ⁻¹(p). Never throws: p ≤ 0 gives −Infinity, p ≥ 1 gives +Infinity, NaN gives NaN (callers
 * pass validated quantiles in (0, 1)).
 */
export function normalQuantile(p: number): number {
  const q = p - 0.5
  if (Math.abs(q) <= SPLIT1) {
    const r = CONST1 - q * q
    return (
      (q * (((((((A7 * r + A6) * r + A5) * r + A4) * r + A3) * r + A2) * r + A1) * r + A0)) /
      (((((((B7 * r + B6) * r + B5) * r + B4) * r + B3) * r + B2) * r + B1) * r + 1)
    )
  }
  if (!(p > 0)) return p === 0 || p < 0 ? -Infinity : Number.NaN
  if (p >= 1) return Infinity
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p))
  let z: number
  if (r <= SPLIT2) {
    r -= CONST2
    z =
      (((((((C7 * r + C6) * r + C5) * r + C4) * r + C3) * r + C2) * r + C1) * r + C0) /
      (((((((D7 * r + D6) * r + D5) * r + D4) * r + D3) * r + D2) * r + D1) * r + 1)
  } else {
    r -= SPLIT2
    z =
      (((((((E7 * r + E6) * r + E5) * r + E4) * r + E3) * r + E2) * r + E1) * r + E0) /
      (((((((F7 * r + F6) * r + F5) * r + F4) * r + F3) * r + F2) * r + F1) * r + 1)
  }
  return q < 0 ? -z : z
}
