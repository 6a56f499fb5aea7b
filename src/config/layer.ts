import { quote } from '../errors.js'
import { ACCEPTED, ALIASES, IGNORED_SECTIONS } from './aliases.js'
import type { Findings } from './findings.js'
import { SCHEMA, isRule, schemaAt } from './schema.js'
import { suggestKey } from './suggest.js'

/**
 * One source of settings (the file, the environment, the caller's overrides) flattened to
 * canonical key paths (`tsfm.cache.ttl_s`). Values are not checked here: layers are merged
 * first (defaults < file < env < overrides) and only the effective value is validated, once.
 */

export interface Entry {
  readonly value: unknown
  /** The key the operator wrote (an alias's own path when an alias set it). */
  readonly shownPath: string
  /** '' for documents, ` (from TSFM_PORT)` for text sources. */
  readonly source: string
}

export interface Layer {
  readonly entries: Map<string, Entry>
  /** Python keys accepted but not settings (ACCEPTED), by their path. */
  readonly accepted: Map<string, Entry>
}

export function emptyLayer(): Layer {
  return { entries: new Map(), accepted: new Map() }
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A parsed document `{ tsfm: {...} }` (a YAML file or the caller's object) → a layer. Unknown
 * keys go to `findings` (warning, or error when strict); misshapen sections are errors.
 */
export function readDocument(doc: Record<string, unknown>, findings: Findings): Layer {
  const layer = emptyLayer()
  for (const key of Object.keys(doc)) {
    if (key !== 'tsfm') findings.unknownKey(key, suggestKey([key]))
  }
  const root = doc['tsfm']
  if (root === undefined || root === null) return layer
  if (!isMapping(root)) {
    findings.error('TSFM_CONFIG_INVALID', 'tsfm', `tsfm must be a mapping of settings, got ${quote(root)}`)
    return layer
  }
  readSection(root, [], SCHEMA as unknown as Record<string, unknown>, layer, findings)
  return layer
}

function readSection(
  section: Record<string, unknown>,
  segments: readonly string[],
  schema: Record<string, unknown>,
  layer: Layer,
  findings: Findings,
): void {
  for (const key of Object.keys(section)) {
    const value = section[key]
    const rel = [...segments, key].join('.')
    const path = `tsfm.${rel}`
    if (segments.length === 0 && Object.hasOwn(IGNORED_SECTIONS, key)) {
      findings.note(IGNORED_SECTIONS[key] as string)
      continue
    }
    const alias = Object.hasOwn(ALIASES, rel) ? ALIASES[rel] : undefined
    if (alias !== undefined) {
      if (alias.kind === 'rename') {
        const canonicalKey = alias.to.slice(alias.to.lastIndexOf('.') + 1)
        if (!Object.hasOwn(section, canonicalKey)) {
          layer.entries.set(`tsfm.${alias.to}`, { value, shownPath: path, source: '' })
        } else if (!Object.is(section[canonicalKey], value)) {
          findings.error(
            'TSFM_CONFIG_INVALID',
            path,
            `${path} must equal tsfm.${alias.to} when both are given (it is the Python service's name for it), ` +
              `got ${quote(value)} and ${quote(section[canonicalKey])}`,
          )
        }
      } else {
        for (const target of alias.to) {
          const targetKey = target.slice(target.lastIndexOf('.') + 1)
          if (!Object.hasOwn(section, targetKey)) layer.entries.set(`tsfm.${target}`, { value, shownPath: path, source: '' })
        }
      }
      continue
    }
    if (Object.hasOwn(ACCEPTED, rel)) {
      layer.accepted.set(path, { value, shownPath: path, source: '' })
      continue
    }
    const child = Object.hasOwn(schema, key) ? schema[key] : undefined
    if (child === undefined) {
      findings.unknownKey(path, suggestKey(['tsfm', ...segments, key]))
    } else if (isRule(child)) {
      layer.entries.set(path, { value, shownPath: path, source: '' })
    } else if (isMapping(value)) {
      readSection(value, [...segments, key], child as Record<string, unknown>, layer, findings)
    } else if (value !== null) {
      // `cache:` with nothing under it is YAML null: an empty section, not a mistake.
      findings.error('TSFM_CONFIG_INVALID', path, `${path} must be a mapping of settings, got ${quote(value)}`)
    }
  }
}

/** Settings given as text (environment variables, CLI flags): each rule parses its own text. */
export interface TextSetting {
  /** Canonical key path, e.g. `tsfm.server.port`. */
  readonly path: string
  readonly text: string
  /** Named in messages: `TSFM_PORT`, `--port`. */
  readonly source: string
}

export function readText(settings: readonly TextSetting[], findings: Findings): Layer {
  const layer = emptyLayer()
  for (const s of settings) {
    const segments = s.path.split('.')
    const rule = segments[0] === 'tsfm' ? schemaAt(segments.slice(1)) : undefined
    if (!isRule(rule)) {
      // Always an error, strict or not: a flag that silently sets nothing is worse than a typo in a file.
      findings.error('TSFM_CONFIG_UNKNOWN_KEY', s.path, `unknown key ${s.path} (from ${s.source})`)
      continue
    }
    layer.entries.set(s.path, { value: rule.fromText(s.text), shownPath: s.path, source: ` (from ${s.source})` })
  }
  return layer
}
