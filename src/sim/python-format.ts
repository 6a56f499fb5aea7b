/**
 * Python's text forms, where the simulator must reproduce bytes tollama (Python) would send:
 * quantile keys are `str(float)` of the requested values, messages quote names with `repr()`.
 */

/** `str(x)` of a Python float: `0.1` → "0.1", `1e-05` → "1e-05", `2.0` → "2.0". */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (Object.is(x, -0)) return '-0.0'
  const abs = Math.abs(x)
  // Both languages print the shortest round-trip digits; they differ only in when they switch
  // to exponent form (Python: below 1e-4 or from 1e16; JavaScript: below 1e-6 or from 1e21).
  if (abs >= 1e-4 && abs < 1e16) return Number.isInteger(x) ? x.toFixed(1) : String(x)
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string]
  const sign = exponent.startsWith('-') ? '-' : '+'
  const digits = exponent.replace(/^[+-]/, '')
  return `${mantissa}e${sign}${digits.length < 2 ? '0' + digits : digits}`
}

/** `repr(s)` of a Python str (single quotes unless the text holds `'` and no `"`). */
export function pyRepr(s: string): string {
  const quoteChar = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quoteChar
  for (const ch of s) {
    const code = ch.codePointAt(0) as number
    if (ch === '\\') out += '\\\\'
    else if (ch === quoteChar) out += '\\' + ch
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0')
    else out += ch
  }
  return out + quoteChar
}
