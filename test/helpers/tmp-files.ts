import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A private temporary directory for files a test writes (YAML configs, …); `remove()` in afterAll. */
export interface TmpDir {
  readonly dir: string
  /** Writes `text` to `name` inside the directory and returns the absolute path. */
  write(name: string, text: string): string
  remove(): void
}

export function makeTmpDir(prefix = 'tsfm-test-'): TmpDir {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    dir,
    write(name, text) {
      const file = join(dir, name)
      writeFileSync(file, text)
      return file
    },
    remove() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
