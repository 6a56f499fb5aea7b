import type { UpstreamJob } from '../types.js'

/**
 * Everything that must be equal for jobs to share one tollama request (SPEC §7): model, horizon,
 * quantiles, freq and options. A lane is one model; within it, jobs of another key wait for a
 * request of their own.
 */
export function batchKey(job: UpstreamJob): string {
  let options = ''
  for (const _ in job.params) {
    options = JSON.stringify(job.params)
    break
  }
  return job.model + '\u0000' + job.horizon + '\u0000' + job.quantiles.join(',') + '\u0000' + job.freq + '\u0000' + options
}
