/** Flags of the benchmark scripts (`--runs 5`), read from the argv their main receives. */

function value(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`)
  return i < 0 ? undefined : (argv[i + 1] ?? '')
}

/** A positive integer flag. */
export function intFlag(argv: readonly string[], name: string, fallback: number): number {
  const text = value(argv, name)
  if (text === undefined) return fallback
  const v = Number(text)
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`--${name} should be a positive integer, got ${JSON.stringify(text)}`)
  return v
}

/** A non-negative number flag (`--batch-window-ms 0`). */
export function numFlag(argv: readonly string[], name: string, fallback: number): number {
  const text = value(argv, name)
  if (text === undefined) return fallback
  const v = Number(text)
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new RangeError(`--${name} should be a non-negative number, got ${JSON.stringify(text)}`)
  return v
}
