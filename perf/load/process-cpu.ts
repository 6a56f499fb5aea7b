import { readFileSync } from 'node:fs'

/**
 * CPU time (user + system, ms, all threads) a child process has used so far, from
 * /proc/<pid>/stat (Linux; NaN elsewhere). Divided by the requests of a run it gives the
 * daemon's CPU cost per request, the figure behind its throughput on a shared machine.
 */
const TICKS_PER_S = 100

export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S
  } catch {
    return Number.NaN
  }
}
