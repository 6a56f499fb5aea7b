import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Worker threads (Piscina, the I/O actor) and real sockets: forks isolate them per file.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // An unhandled rejection or uncaught exception anywhere fails the whole run (kept explicit:
    // a stray rejection is a bug in a resilience runtime).
    dangerouslyIgnoreUnhandledErrors: false,
    reporters: ['default'],
  },
})
