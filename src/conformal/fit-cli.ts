import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { quote } from '../errors.js'
import type { ConformalAdjustment } from './adjustment.js'
import { targetCoverageProblem } from './fit.js'
import { PairsInputError, readPairsFile } from './pairs-file.js'
import { fitSegmented, type SegmentedFit } from './segments.js'
import { encodeState, writeFileAtomic } from './state-file.js'

/**
 * `tsfm-runner conformal fit`: fit the conformal band adjustment offline from past bands and
 * their outcomes, and write the Python service's state file (schema 2 with segments, else 1),
 * so either service can serve it. Exit 0 written, 1 bad input or I/O (nothing written), 2 usage.
 */

export const CONFORMAL_USAGE = `Usage: tsfm-runner conformal fit --input FILE --out FILE [options]

Fits the conformal adjustment of forecast bands (centre shift and width scale, the Python
service's calibration/conformal.py) from past bands and what the markets then did, and writes
the Python service's conformal state file (schema 2 with segments, else 1).

Options:
  --input FILE            JSON Lines, one pair a line:
                            {"q_low": .., "median": .. (optional), "q_high": .., "actual": .., ...}
                          (q10, q50, q90 and resolved_prob are accepted too; blank lines skipped)
  --out FILE              the state file to write (a temp file beside it, then renamed)
  --coverage C            target coverage in (0, 1] (default 0.9)
  --segment-fields LIST   some of category, liquidity_bucket, tte_bucket (the routing keys the
                          daemon selects a segment by), e.g. liquidity_bucket,tte_bucket: one
                          adjustment per segment "liquidity_bucket=high|tte_bucket=0_24h",
                          fields in that order whatever the order given (a missing field
                          reads "unknown")
  --min-samples N         segments with fewer pairs are left out and served the default,
                          which is fitted on all pairs (default 100)
  -h, --help              this help

Exit codes: 0 written, 1 bad input or I/O error (nothing is written), 2 usage error.
`

const DEFAULT_COVERAGE = 0.9
const DEFAULT_MIN_SAMPLES = 100

interface FitArgs {
  readonly input: string
  readonly out: string
  readonly coverage: number
  readonly segmentFields: readonly string[]
  readonly minSamples: number
}

class UsageError extends Error {}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

function parseFitArgs(argv: string[]): FitArgs | 'help' {
  let values
  try {
    values = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        out: { type: 'string' },
        coverage: { type: 'string' },
        'segment-fields': { type: 'string' },
        'min-samples': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  if (values.help === true) return 'help'
  if (values.input === undefined || values.input === '') throw new UsageError('--input FILE is required')
  if (values.out === undefined || values.out === '') throw new UsageError('--out FILE is required')
  const coverageText = values.coverage ?? String(DEFAULT_COVERAGE)
  const coverage = NUMBER_RE.test(coverageText) ? Number(coverageText) : Number.NaN
  if (targetCoverageProblem(coverage) !== null) throw new UsageError(`--coverage should be a number in (0, 1], got ${quote(coverageText)}`)
  const minText = values['min-samples'] ?? String(DEFAULT_MIN_SAMPLES)
  const minSamples = /^\d+$/.test(minText) ? Number(minText) : Number.NaN
  if (!Number.isSafeInteger(minSamples) || minSamples < 1) throw new UsageError(`--min-samples should be an integer ≥ 1, got ${quote(minText)}`)
  const fieldsText = values['segment-fields']
  const segmentFields = fieldsText === undefined ? [] : fieldsText.split(',').map((f) => f.trim())
  // The key format `field=value|…` cannot hold a field name with `=` or `|` unambiguously.
  for (const f of segmentFields) {
    if (f === '' || /[=|]/.test(f)) throw new UsageError(`--segment-fields should be comma-separated names without "=" or "|", got ${quote(fieldsText)}`)
  }
  if (new Set(segmentFields).size !== segmentFields.length) throw new UsageError(`--segment-fields names a field twice: ${quote(fieldsText)}`)
  // The daemon selects a segment among the request's routing keys (`segmentCandidates`): only
  // these fields, only in this order. A key of any other field or order would never be chosen.
  for (const f of segmentFields) {
    if (!ROUTING_FIELDS.includes(f)) throw new UsageError(`--segment-fields should name only ${ROUTING_FIELDS.join(', ')} (the keys the daemon selects a segment by), got ${quote(f)}`)
  }
  segmentFields.sort((a, b) => ROUTING_FIELDS.indexOf(a) - ROUTING_FIELDS.indexOf(b))
  return { input: values.input, out: values.out, coverage, segmentFields, minSamples }
}

const ROUTING_FIELDS: readonly string[] = ['category', 'liquidity_bucket', 'tte_bucket']

function describe(a: ConformalAdjustment): string {
  return `centre shift ${a.center_shift.toPrecision(4)}, width scale ${a.width_scale.toPrecision(4)} (quantile level ${a.quantile_level.toPrecision(4)}, n=${a.sample_size})`
}

const LISTED_SEGMENTS = 10

function summary(args: FitArgs, fit: SegmentedFit, pairs: number): string {
  let text = `Fitted ${pairs} pairs from ${args.input} for coverage ${args.coverage}: default ${describe(fit.default)}.`
  if (args.segmentFields.length > 0) {
    const fitted = [...fit.segments].map(([k, a]) => `${k}: ${describe(a)}`)
    const shown = fitted.slice(0, LISTED_SEGMENTS).join('; ')
    const more = fitted.length > LISTED_SEGMENTS ? `; and ${fitted.length - LISTED_SEGMENTS} more` : ''
    text += ` ${fit.segments.size} segment(s) by ${args.segmentFields.join(',')} fitted${fitted.length > 0 ? ` (${shown}${more})` : ''};`
    text += ` ${fit.skipped.size} left out with fewer than ${args.minSamples} pairs (served the default).`
  }
  return `${text} Wrote ${args.out} (schema ${fit.segments.size > 0 ? 2 : 1}).\n`
}

async function fit(args: FitArgs, now: () => Date): Promise<number> {
  const pairs = await readPairsFile(args.input, args.segmentFields)
  if (pairs.length === 0) throw new PairsInputError(`--input ${quote(args.input)} holds no pairs`)
  const fitted = fitSegmented(pairs, args.coverage, args.minSamples, args.segmentFields)
  const metadata = {
    tool: 'tsfm-runner conformal fit',
    source: basename(args.input),
    pair_count: pairs.length,
    target_coverage: args.coverage,
    min_samples: args.minSamples,
    segment_fields: [...args.segmentFields],
    segments_fitted: Object.fromEntries([...fitted.segments].map(([k, a]) => [k, a.sample_size])),
    segments_skipped: Object.fromEntries(fitted.skipped),
  }
  const text = encodeState({ default: fitted.default, segments: fitted.segments, segmentFields: args.segmentFields, metadata }, now().toISOString())
  try {
    await writeFileAtomic(args.out, text)
  } catch (e) {
    throw new Error(`cannot write --out ${quote(args.out)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  process.stdout.write(summary(args, fitted, pairs.length))
  return 0
}

/** `tsfm-runner conformal <subcommand> …` (argv after `conformal`); `now` is for tests. */
export async function conformalMain(argv: string[], now: () => Date = () => new Date()): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(CONFORMAL_USAGE)
    return 0
  }
  if (sub !== 'fit') {
    process.stderr.write(`tsfm-runner conformal: unknown subcommand ${quote(sub ?? '')}\n\n${CONFORMAL_USAGE}`)
    return 2
  }
  let args
  try {
    args = parseFitArgs(rest)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`tsfm-runner conformal fit: ${e.message}\n\n${CONFORMAL_USAGE}`)
    return 2
  }
  if (args === 'help') {
    process.stdout.write(CONFORMAL_USAGE)
    return 0
  }
  try {
    return await fit(args, now)
  } catch (e) {
    // Bad pairs, unreadable input, unwritable output: one readable line, never a stack trace.
    process.stderr.write(`tsfm-runner conformal fit: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}
