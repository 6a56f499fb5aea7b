import { ACCEPTED, ALIASES, IGNORED_SECTIONS } from './aliases.js'
import { SCHEMA, isRule } from './schema.js'

/**
 * "did you mean …?" for an unknown key: first a known key beside it within a small edit
 * distance (`ttl` → `ttl_s`), else the one place in the tree where a key of exactly that name
 * lives (`tsfm.ttl_s` → `tsfm.cache.ttl_s`, top-level `cache` → `tsfm.cache`).
 */

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
    }
    prev = cur
  }
  return prev[b.length] as number
}

/** Every key path the loader understands (canonical, alias, accepted, ignored), relative to tsfm. */
function knownPaths(): string[] {
  const out: string[] = []
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, child] of Object.entries(node)) {
      const path = prefix + key
      out.push(path)
      if (!isRule(child)) walk(child as Record<string, unknown>, `${path}.`)
    }
  }
  walk(SCHEMA as unknown as Record<string, unknown>, '')
  out.push(...Object.keys(ALIASES), ...Object.keys(ACCEPTED), ...Object.keys(IGNORED_SECTIONS))
  return out
}

let known: string[] | undefined

/**
 * A suggestion for the unknown key at `segments`, where `segments[0]` is `tsfm` (or the unknown
 * top-level key itself). Returns a full path with the `tsfm.` prefix, or undefined.
 */
export function suggestKey(segments: readonly string[]): string | undefined {
  known ??= knownPaths()
  const name = segments[segments.length - 1] ?? ''
  const parent = segments[0] === 'tsfm' ? segments.slice(1, -1).join('.') : null
  if (parent !== null) {
    const prefix = parent === '' ? '' : `${parent}.`
    const siblings = known.filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('.'))
    // Small typos only: up to a third of the name, at least 2 edits (a dropped `_s` unit
    // suffix is the most common slip) and at most 3.
    const limit = Math.min(3, Math.max(2, Math.floor(name.length / 3)))
    let best: string | undefined
    let bestDistance = limit + 1
    for (const s of siblings) {
      const d = editDistance(name, s.slice(prefix.length))
      if (d < bestDistance) {
        best = s
        bestDistance = d
      }
    }
    if (best !== undefined) return `tsfm.${best}`
  }
  const sameName = known.filter((p) => p === name || p.endsWith(`.${name}`))
  return sameName.length === 1 ? `tsfm.${sameName[0] as string}` : undefined
}
