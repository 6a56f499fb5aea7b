import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { configReference, envReference } from '../src/config/describe.js'
import { ERRORS } from '../src/errors.js'
import { runIfEntry } from '../src/entry.js'
import { packageRoot } from '../src/paths.js'

/**
 * The README's generated blocks: the configuration and environment tables (from the validator's
 * own schema), the error catalogue (src/errors.ts) and the embedding example (the file the test
 * suite runs). `make readme` rewrites
 * them; test/integration/readme.test.ts fails when they are stale.
 */

export function generatedBlocks(): Record<string, string> {
  const example = readFileSync(join(packageRoot(), 'docs/examples/embedding.ts'), 'utf8').trimEnd()
  return {
    'config:env': envReference(),
    'config:keys': configReference(),
    'errors:catalogue': errorCatalogue(),
    'example:embedding': `\`\`\`ts\n// docs/examples/embedding.ts (run by the test suite)\n${example}\n\`\`\``,
  }
}

/** Every code of the catalogue with its status and description, in the catalogue's order. */
export function errorCatalogue(): string {
  const rows = Object.entries(ERRORS).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.description.replaceAll('|', '\\|')} |`)
  return ['| code | status | when |', '|---|---|---|', ...rows].join('\n')
}

/** The text between `<!-- name -->` and `<!-- /name -->`, trimmed. */
export function readBlock(text: string, name: string): string {
  const start = `<!-- ${name} -->`
  const a = text.indexOf(start)
  const b = text.indexOf(`<!-- /${name} -->`)
  if (a < 0 || b < a) throw new Error(`README has no <!-- ${name} --> block`)
  return text.slice(a + start.length, b).trim()
}

export function rewrite(text: string): string {
  let out = text
  for (const [name, body] of Object.entries(generatedBlocks())) {
    const start = `<!-- ${name} -->`
    const a = out.indexOf(start)
    const b = out.indexOf(`<!-- /${name} -->`)
    if (a < 0 || b < a) throw new Error(`README has no <!-- ${name} --> block`)
    out = `${out.slice(0, a + start.length)}\n${body}\n${out.slice(b)}`
  }
  return out
}

runIfEntry(import.meta.url, 'readme-sync', () => {
  const file = join(packageRoot(), 'README.md')
  writeFileSync(file, rewrite(readFileSync(file, 'utf8')))
  return Promise.resolve(0)
})
