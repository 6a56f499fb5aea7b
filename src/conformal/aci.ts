/**
 * Adaptive conformal inference (Gibbs & Candès 2021, "Adaptive Conformal Inference Under
 * Distribution Shift", eq. 2): after each outcome the working miscoverage level moves by
 * `γ·(α − err)` — down (a wider band) after a miss, up by a little after a hit — so that over
 * any stretch of T outcomes the miss rate differs from α by at most about
 * `(α_max − α_min + γ)/(γ·T)` whatever the data do. Clipped to `[min, max]`: below 0 the paper's
 * band is infinite, and a level pinned at a bound stops winding up while the width scale sits at
 * its own bound.
 */
export function aciStep(alphaT: number, alpha: number, gamma: number, miss: boolean, min: number, max: number): number {
  const next = alphaT + gamma * (alpha - (miss ? 1 : 0))
  return next < min ? min : next > max ? max : next
}
