/**
 * Pass criteria printed next to the measured values. `blueprint` rows are the PRD2 pass criteria
 * (prd2-performance-blueprint.md §2, §5), `gate` rows are what `make bench-gate` enforces (ratios
 * and bounds measured in the same run), `target` rows are this runtime's own goals, reported but
 * not enforced (absolute times on a shared 2-core machine are too noisy to fail CI on).
 */

export type CriterionSource = 'blueprint' | 'gate' | 'target'

export interface Criterion {
  readonly source: CriterionSource
  readonly name: string
  /** The bound, as text (`≤ 300 ms`). */
  readonly limit: string
  readonly measured: string
  readonly pass: boolean
}

export function criterion(source: CriterionSource, name: string, limit: string, measured: string, pass: boolean): Criterion {
  return { source, name, limit, measured, pass }
}

/** `12.3 ms` with a precision that suits the magnitude. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(1)} %`
}

export function allPass(rows: readonly Criterion[], source?: CriterionSource): boolean {
  return rows.every((r) => (source !== undefined && r.source !== source) || r.pass)
}
