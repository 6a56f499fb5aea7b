import { request } from 'undici'

/**
 * The daemon's `GET /metrics` (Prometheus text exposition, prom-client), read by the benchmarks
 * that judge what the daemon itself measured: `tollama_latency_ms` (every HTTP request to the
 * upstream) and the process metrics (`process_resident_memory_bytes`, on by default). Only what
 * they need: samples by name and labels, and histograms as cumulative buckets plus sum and count.
 */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    const raw = m[3] as string
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw)
    out.push({ name: m[1] as string, labels, value })
  }
  return out
}

export async function fetchMetrics(daemonUrl: string): Promise<Sample[]> {
  const res = await request(`${daemonUrl}/metrics`, { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}: ${text.slice(0, 200)}`)
  return parseMetrics(text)
}

function matches(s: Sample, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(labels)) if (s.labels[k] !== v) return false
  return true
}

/** The sum of every sample named `name` whose labels include `labels` (NaN when there is none). */
export function gauge(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0
  let found = false
  for (const s of samples) {
    if (s.name !== name || !matches(s, labels)) continue
    sum += s.value
    found = true
  }
  return found ? sum : Number.NaN
}

/** A histogram summed over the label sets matching `labels`: cumulative bucket counts by upper bound. */
export interface Histogram {
  /** Upper bounds, ascending (the last is +Inf). */
  readonly le: readonly number[]
  /** Cumulative counts, one per bound. */
  readonly counts: readonly number[]
  readonly sum: number
  readonly count: number
}

export function histogram(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Histogram {
  const byLe = new Map<number, number>()
  let sum = 0
  let count = 0
  for (const s of samples) {
    if (!matches(s, labels)) continue
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le)
      byLe.set(le, (byLe.get(le) ?? 0) + s.value)
    } else if (s.name === `${name}_sum`) sum += s.value
    else if (s.name === `${name}_count`) count += s.value
  }
  const le = [...byLe.keys()].sort((a, b) => a - b)
  return { le, counts: le.map((b) => byLe.get(b) as number), sum, count }
}

/** What was observed between two readings of the same histogram (`after − before`). */
export function histogramDelta(after: Histogram, before: Histogram): Histogram {
  const prev = new Map(before.le.map((b, i) => [b, before.counts[i] as number]))
  return {
    le: after.le,
    counts: after.counts.map((c, i) => c - (prev.get(after.le[i] as number) ?? 0)),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  }
}

/**
 * The upper bound of the bucket holding the p-th percentile: the true percentile is at most this
 * (and above the previous bound). Coarse by nature (the buckets grow ×2–2.5).
 */
export function bucketPercentile(h: Histogram, p: number): number {
  if (h.count === 0) return Number.NaN
  const rankWanted = Math.ceil((p / 100) * h.count)
  for (let i = 0; i < h.le.length; i++) if ((h.counts[i] as number) >= rankWanted) return h.le[i] as number
  return Number.POSITIVE_INFINITY
}
