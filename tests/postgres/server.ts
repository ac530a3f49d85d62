import { inject } from 'vitest'

/** The URL of the test run's PostgreSQL server; throws (failing the test) if there is none. */
export function pgUrl(): string {
  const pg = inject('pg')
  if ('error' in pg) throw new Error(`The connected tests need a PostgreSQL server: ${pg.error}`)
  return pg.url
}
