// The core suites again, with every commit going through PostgreSQL (one suite, every
// implementation). A connected database takes writes only in transactionAsync, which the core
// suites (synchronous by design) do not use; so each database they make stays local, its commit
// stream is recorded, and after each test the stream is appended to a PostgreSQL log exactly as a
// connected database appends it (the same framing and codec), read back, and replayed into a
// fresh replica, which must read exactly what the test's database reads (tables, records,
// indexes, schemas). What this checks: the wire form and the replay of every change the suites
// make. What it does not: their writes running under the head lock, or joining with connect()
// (the connected write path and joins have their own tests in this folder).
/// <reference types="vite/client" />
import pg from 'pg'
import { afterAll, afterEach, expect, vi } from 'vitest'
import { Database } from '../../src/database'
import type { RemoteParts } from '../../src/database'
import type { Op } from '../../src/storage/change'
import { ConnectedReplica, frame } from '../../src/postgres/replica'
import { Statements } from '../../src/postgres/sql'
import { snapshot } from '../support/helpers'
import { freshName } from './support'
import { pgUrl } from './server'

interface Recorded {
  db: InstanceType<typeof Database>
  commits: Op[][]
  /** A commit not made of changes (a reset): the stream alone cannot rebuild the state. */
  replayable: boolean
  inTest: boolean
}

const made = vi.hoisted(() => ({ dbs: [] as Recorded[] }))

vi.mock('../../src/database', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/database')>()
  const Local = mod.Database
  const Recording = new Proxy(Local, {
    construct(target, args: ConstructorParameters<typeof Local>) {
      const db = new target(...args)
      const rec: Recorded = { db, commits: [], replayable: true, inTest: expect.getState().currentTestName !== undefined }
      db.onCommit((commit) => {
        if (commit.reset === true) rec.replayable = false
        else if (commit.ops.length > 0) rec.commits.push([...commit.ops])
      })
      made.dbs.push(rec)
      return db
    },
  })
  return { ...mod, Database: Recording }
})

let client: pg.Client | null = null
const sql = new Statements('dictdb_')

/**
 * Appends the commits as a connected database does (one group commit, under a fresh name), reads
 * the entry back and replays it into a fresh replica, as a process catching up does. (Joining
 * with connect() costs a connection per database: tests/postgres/connected.test.ts covers it.)
 */
async function throughPostgres(commits: Op[][]): Promise<Database> {
  if (client === null) {
    client = new pg.Client(pgUrl())
    await client.connect()
  }
  const name = freshName()
  await sql.install(client, name)
  await sql.append(client, name, 1, crypto.randomUUID(), frame(commits), 'dictdb_log')
  const [entry] = await sql.entriesAfter(client, name, 0, 1)
  await client.query('DELETE FROM dictdb_log WHERE name = $1', [name])
  await client.query('DELETE FROM dictdb_head WHERE name = $1', [name])
  let parts: RemoteParts | undefined
  const replica = Database.openConnected({}, (p) => {
    parts = p
    return { transact: async () => undefined as never, sync: async () => {}, close: async () => {}, sync_: { catchUp: () => {}, append: () => {}, readLocal: (lock, fn) => lock.readSync(fn), quiet: () => false } }
  })
  new ConnectedReplica(parts as RemoteParts).applyEntry(entry!.position, entry!.ops)
  return replica
}

afterEach(async () => {
  const recorded = made.dbs
  made.dbs = recorded.filter((r) => !r.inTest)
  for (const rec of recorded) {
    if (!rec.replayable || rec.commits.length === 0) continue
    let expected: unknown
    try {
      expected = snapshot(rec.db)
    } catch {
      continue // closed by the test: nothing to compare
    }
    // The whole stream each time: a database made before the test carries earlier commits too.
    const replica = await throughPostgres(rec.commits)
    expect(snapshot(replica), 'a replica fed from the PostgreSQL log').toEqual(expected)
    void replica.close()
  }
})

afterAll(async () => {
  await client?.end()
})

import.meta.glob(
  [
    '../*.test.ts',
    '../table/**/*.test.ts',
    '../query/**/*.test.ts',
    '../helpers/**/*.test.ts',
    '../scenarios/**/*.test.ts',
    // Not about a database's behaviour: the docs' examples, the built package, the types.
    '!../docs.test.ts',
    '!../package.test.ts',
    '!../types.test.ts',
  ],
  { eager: true },
)
