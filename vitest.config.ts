import { defineConfig } from 'vitest/config'

/**
 * Tests that measure a cluster under load (three daemon processes, Redis and a burst of 600
 * requests; Redis faults under a steady load with a p99 bound) run after everything else, one
 * file at a time: run alongside the ~130 other files on 2 vCPUs, their daemons waited for a CPU
 * long enough for lanes to shed and L2 lookups to time out (284 of 600 answers from the baseline
 * in one full run), which says nothing about the code.
 */
const LOAD = ['test/integration/l2/cluster.test.ts', 'test/integration/l2/l2-faults.test.ts']

const common = {
  // Worker threads (Piscina, the I/O actor) and real sockets: forks isolate them per file.
  pool: 'forks',
  testTimeout: 20_000,
  hookTimeout: 20_000,
  // An unhandled rejection or uncaught exception anywhere fails the whole run (kept explicit:
  // a stray rejection is a bug in a resilience runtime).
  dangerouslyIgnoreUnhandledErrors: false,
} as const

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { ...common, name: 'tests', include: ['test/**/*.test.ts'], exclude: LOAD, sequence: { groupOrder: 0 } } },
      { test: { ...common, name: 'load', include: LOAD, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
})
