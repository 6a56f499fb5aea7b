import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import { TsfmError, quote } from '../errors.js'
import { isMapping } from './layer.js'

/**
 * Read and parse a YAML config file into a document with a top-level `tsfm:` mapping. Problems
 * here are TSFM_CONFIG_FILE and fatal (there is nothing to validate); parse errors name the file
 * with line and column, as editors and CI annotations expect (`file:line:col: message`).
 */

// Far above any real config (the Python service's file is under 2 KiB); a larger file is a
// wrong path (a log, a data file), and reading it all would only delay the error.
const MAX_FILE_BYTES = 1_048_576

/** Problems YAML can report as warnings, which still mean the file says something we cannot use. */
export interface ParsedConfigFile {
  readonly doc: Record<string, unknown>
  /** `file:line:col: message` for YAML warnings (e.g. an unknown `!!tag`). */
  readonly warnings: readonly string[]
}

function readReason(e: unknown): string {
  const code = (e as { code?: unknown }).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'it is a directory'
  return typeof code === 'string' ? code : String(e)
}

/** `via` names where the path came from (` (from TSFM_CONFIG)`), or ''. */
export function readConfigFile(file: string, via = ''): ParsedConfigFile {
  let text: string
  try {
    const bytes = readFileSync(file)
    if (bytes.length > MAX_FILE_BYTES) {
      throw new TsfmError('TSFM_CONFIG_FILE', `config file ${file}${via} is ${bytes.length} bytes; a config file is at most ${MAX_FILE_BYTES}`)
    }
    text = bytes.toString('utf8')
  } catch (e) {
    if (e instanceof TsfmError) throw e
    throw new TsfmError('TSFM_CONFIG_FILE', `cannot read config file ${file}${via}: ${readReason(e)}`)
  }

  const lines = new LineCounter()
  const parsed = parseDocument(text, { prettyErrors: false, lineCounter: lines, uniqueKeys: true })
  const at = (pos: readonly [number, number]): string => {
    const { line, col } = lines.linePos(pos[0])
    return `${file}:${line}:${col}`
  }
  if (parsed.errors.length > 0) {
    throw new TsfmError('TSFM_CONFIG_FILE', parsed.errors.map((e) => `${at(e.pos)}: invalid YAML: ${e.message}`).join('\n'))
  }
  const warnings = parsed.warnings.map((w) => `${at(w.pos)}: ${w.message}`)

  let doc: unknown
  try {
    // maxAliasCount bounds "billion laughs" expansion of anchors/aliases.
    doc = parsed.toJS({ maxAliasCount: 100 })
  } catch (e) {
    throw new TsfmError('TSFM_CONFIG_FILE', `${file}: invalid YAML: ${e instanceof Error ? e.message : String(e)}`)
  }

  if (doc === null || doc === undefined) {
    throw new TsfmError('TSFM_CONFIG_FILE', `config file ${file}${via} is empty; it needs a top-level "tsfm:" key`, 'tsfm')
  }
  if (!isMapping(doc)) {
    throw new TsfmError('TSFM_CONFIG_FILE', `config file ${file}${via} must be a YAML mapping with a top-level "tsfm:" key, got ${quote(doc)}`, 'tsfm')
  }
  if (!Object.hasOwn(doc, 'tsfm')) {
    throw new TsfmError(
      'TSFM_CONFIG_FILE',
      `config file ${file}${via} has no top-level "tsfm:" key ` +
        `(both the blueprint layout and the Python service's configs/tsfm_runtime.yaml keep every setting under tsfm:)`,
      'tsfm',
    )
  }
  return { doc, warnings }
}
