import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // Tests (and the doc examples run by tests/docs.test.ts) import 'dictdb' as users do, but
    // run against the sources. The built package is tested by spawning node (tests/package.test.ts).
    alias: [
      { find: /^dictdb$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^dictdb\/postgres$/, replacement: fileURLToPath(new URL('./src/postgres/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // The type tests (expectTypeOf, @ts-expect-error) fail `npm test` too, not only typecheck.
    typecheck: { enabled: true, include: ['tests/types/**/*.test-d.ts'], tsconfig: './tsconfig.types.json' },
    // The run's own temp folder (TMPDIR), removed at the end; then one PostgreSQL server for the
    // whole run (DICTDB_PG_URL, or a throwaway one from npm, its data in that folder).
    globalSetup: ['tests/support/temp-root.ts', 'tests/postgres/global-setup.ts'],
    // Hang guards, not speed limits: the suites run at the lowest priority beside benchmarks,
    // and a starved CPU-bound test ran 22 times slower than idle (the ledger's model test: 2.3 s
    // idle, 51 s under load), past the old 30 s. Then, past 120 s, with benchmarks at the highest
    // priority on both cores: the canonical-file property test 134 s (6 s idle), each case of
    // tests/persist/crash.test.ts 139-151 s. A synchronous test cannot be stopped by this limit
    // anyway; for an asynchronous hang, 300 s is still a bounded wait.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
