import { Document, isScalar, visit } from 'yaml'
import type { TsfmConfig } from './types.js'

/**
 * The effective config as YAML under `tsfm:` (what `tsfm-runner config print` shows). Loading
 * the output again gives the same config, except that tokens are redacted: a config print ends
 * up in tickets and chat, and the token never should.
 */

export const REDACTED = '***'

const TOKEN_PATHS: readonly (readonly string[])[] = [
  ['tsfm', 'server', 'api_token'],
  ['tsfm', 'server', 'metrics_token'],
  ['tsfm', 'adapter', 'api_token'],
]
/** Lists of tokens: every item redacted. */
const TOKEN_LIST_PATHS: readonly (readonly string[])[] = [['tsfm', 'server', 'api_tokens']]

export function printConfig(config: TsfmConfig): string {
  const doc = new Document({ tsfm: config })
  for (const path of TOKEN_PATHS) {
    const node = doc.getIn(path, true)
    if (isScalar(node) && node.value !== null) {
      node.value = REDACTED
      node.comment = ' redacted; set it again (e.g. through its environment variable) to use this file'
    }
  }
  for (const path of TOKEN_LIST_PATHS) {
    const node = doc.getIn(path, true) as { items?: unknown[] } | undefined
    for (const item of node?.items ?? []) {
      if (isScalar(item)) {
        item.value = REDACTED
        item.comment = ' redacted'
      }
    }
  }
  // Lists in flow style, as the blueprint writes them: `quantiles: [0.1, 0.5, 0.9]`.
  visit(doc, {
    Seq(_key, node) {
      node.flow = true
    },
  })
  return doc.toString({ flowCollectionPadding: false })
}
