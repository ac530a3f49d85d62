// Early lock release (src/postgres/early.ts): a commit is resolved, applied and caught up with
// only once a WAL flush covered it. The fault: a role that may not flush (EXECUTE on
// pg_logical_emit_message revoked; the tests' own superuser is not affected), so the ordering
// transaction commits but the flush after it fails.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionError, InvalidStateError } from '../../src/index'
import { commitPath, EARLY_MIN_VERSION } from '../../src/postgres/early'
import { connect } from '../../src/postgres/index'
import { connectedClosedAfterEach, freshName } from './support'
import { Proxy } from './proxy'
import { pgUrl } from './server'

const FLUSH_FN = 'pg_logical_emit_message(boolean, text, text, boolean)'
const role = `dictdb_early_${randomUUID().slice(0, 8)}`
const password = randomUUID()
let admin: pg.Client

/** The test server's URL, logged in as the role that flushes only while allowed. */
function roleUrl(): string {
  const url = new URL(pgUrl())
  url.username = role
  url.password = password
  return url.toString()
}

const forbidFlush = () => admin.query(`REVOKE EXECUTE ON FUNCTION ${FLUSH_FN} FROM PUBLIC`)
const allowFlush = () => admin.query(`GRANT EXECUTE ON FUNCTION ${FLUSH_FN} TO PUBLIC`)

/** Runs `fn` while the role may not flush; the role may again after it, whatever happens. */
async function withoutFlush(fn: () => Promise<void>): Promise<void> {
  await forbidFlush()
  try {
    await fn()
  } finally {
    await allowFlush()
  }
}

/** Runs `fn` (which opens databases) with DICTDB_PG_COMMIT set to `path`. */
async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  process.env.DICTDB_PG_COMMIT = path
  try {
    return await fn()
  } finally {
    delete process.env.DICTDB_PG_COMMIT
  }
}

/** Resolves with what `promise` settled with: its value, or the error it rejected with. */
const settled = (promise: Promise<unknown>): Promise<unknown> => promise.then((value) => ({ resolved: value }), (error: unknown) => error)

beforeAll(async () => {
  admin = new pg.Client(pgUrl())
  await admin.connect()
  // Installs the tables and the procedure as the superuser, then lets the role use them.
  const db = await connect({ url: pgUrl(), name: freshName() })
  await db.close()
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
  await admin.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${role}`)
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON dictdb_head, dictdb_log, dictdb_snapshot TO ${role}`)
})

afterAll(async () => {
  await allowFlush()
  await admin.query(`DROP OWNED BY ${role}`)
  await admin.query(`DROP ROLE ${role}`)
  await admin.end()
})

describe('early lock release', () => {
  const open = connectedClosedAfterEach()

  it('DICTDB_PG_COMMIT=early on a server older than 17 is an InvalidStateError', async () => {
    await withPath('early', async () => expect(() => commitPath(EARLY_MIN_VERSION - 1)).toThrow(InvalidStateError))
  })

  it('a commit whose flush fails never resolves: it rejects saying it may have been applied, and comes back from the log', async () => {
    const name = freshName()
    const db = await open({ name, url: roleUrl(), lockTimeoutMs: 500 })
    await db.transactionAsync(() => db.counter('c').add(1))
    await withoutFlush(async () => {
      const outcome = await settled(db.transactionAsync(() => db.counter('c').add(1)))
      expect(outcome).toBeInstanceOf(ConnectionError)
      expect((outcome as Error).message).toMatch(/may have been applied/)
      expect(db.counter('c').value).toBe(1)
    })
    // The ordering transaction had committed: once flushed, it is in the log exactly once.
    await db.sync()
    expect(db.counter('c').value).toBe(2)
  })

  it('another process hears of a commit but applies it only once a flush covered it', async () => {
    const name = freshName()
    const a = await open({ name, url: roleUrl(), lockTimeoutMs: 500 })
    const b = await open({ name, url: roleUrl(), lockTimeoutMs: 500 })
    await a.transactionAsync(() => a.counter('c').add(1))
    await b.sync()
    await withoutFlush(async () => {
      await settled(a.transactionAsync(() => a.counter('c').add(1)))
      // b was notified by the ordering transaction; its catch-up, and sync(), flush before applying.
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(b.counter('c').value).toBe(1)
      await expect(b.sync()).rejects.toThrow()
      expect(b.counter('c').value).toBe(1)
    })
    await b.sync()
    expect(b.counter('c').value).toBe(2)
  })

  it('a process on the v3 path refuses to open a database written with early release', async () => {
    const name = freshName()
    const db = await open({ name })
    await db.transactionAsync(() => db.counter('c').add(1))
    process.env.DICTDB_PG_COMMIT = 'v3'
    try {
      await expect(connect({ url: pgUrl(), name })).rejects.toThrow(InvalidStateError)
    } finally {
      delete process.env.DICTDB_PG_COMMIT
    }
  })

  it('a process already on the v3 path has its commits refused, naming early release, once another opened the database with it', async () => {
    const name = freshName()
    process.env.DICTDB_PG_COMMIT = 'v3'
    const old = await open({ name }).finally(() => delete process.env.DICTDB_PG_COMMIT)
    await old.transactionAsync(() => old.counter('c').add(1))
    const early = await open({ name })
    await expect(old.transactionAsync(() => old.counter('c').add(1))).rejects.toThrow(/early lock release/)
    await early.transactionAsync(() => early.counter('c').add(1))
    await early.sync()
    expect(early.counter('c').value).toBe(2)
  })

  it('a process already on the v3 path, on its locked path after a conflict, has its commits refused once another opened the database with early release', async () => {
    const name = freshName()
    const proxy = new Proxy(pgUrl())
    await proxy.start()
    try {
      const [other, old] = await withPath('v3', async () => [await open({ name }), await open({ name, url: proxy.url(pgUrl()) })])
      await other.transactionAsync(() => other.counter('c').add(1))
      await old.sync()
      // old does not hear of other's next commit, so its own meets a conflict and goes on to the locked path.
      proxy.hold()
      await other.transactionAsync(() => other.counter('c').add(1))
      const conflicted = old.transactionAsync(() => old.counter('c').add(1))
      proxy.release()
      await conflicted
      const early = await open({ name })
      await expect(old.transactionAsync(() => old.counter('c').add(1))).rejects.toThrow(/early lock release/)
      await early.sync()
      expect(early.counter('c').value).toBe(3)
    } finally {
      proxy.release()
      await proxy.cut()
    }
  })

  /** A process on the v3 path that committed once, then another that opened the database with early release and committed. */
  async function v3ThenEarly() {
    const name = freshName()
    const old = await withPath('v3', () => open({ name }))
    await old.transactionAsync(() => old.counter('c').add(1))
    const early = await open({ name })
    await early.transactionAsync(() => early.counter('c').add(1))
    return old
  }

  it('a process already on the v3 path stops following a database once another opened it with early release', async () => {
    const old = await v3ThenEarly()
    await expect(old.sync()).rejects.toThrow(/early lock release/)
    expect(old.counter('c').value).toBe(1)
  })

  it('a read-only transaction of a process already on the v3 path is refused once another opened the database with early release', async () => {
    const old = await v3ThenEarly()
    await expect(old.transactionAsync(() => old.counter('c').value)).rejects.toThrow(/early lock release/)
  })

  it.each([
    ['early', 'off'],
    ['v3', 'on'],
  ])('a validated commit on the %s path appends with synchronous_commit %s (early: its flush makes it durable)', async (path, setting) => {
    const prefix = `sync${randomUUID().slice(0, 8)}_`
    const db = await withPath(path, () => open({ name: freshName(), tablePrefix: prefix }))
    await admin.query(`CREATE TABLE ${prefix}seen (setting text)`)
    await admin.query(`CREATE FUNCTION ${prefix}record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO ${prefix}seen VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$`)
    await admin.query(`CREATE TRIGGER ${prefix}record AFTER INSERT ON ${prefix}log FOR EACH ROW EXECUTE FUNCTION ${prefix}record()`)
    await db.transactionAsync(() => db.counter('c').add(1))
    const { rows } = await admin.query<{ setting: string }>(`SELECT setting FROM ${prefix}seen`)
    expect(rows.map((r) => r.setting)).toEqual([setting])
  })

  it('a commit function made by an earlier version is replaced by one that refuses early databases', async () => {
    const prefix = `early${randomUUID().slice(0, 8)}_`
    await admin.query(`CREATE FUNCTION ${prefix}commit_v3(n text, base bigint, reads text[], writes text[], id uuid, body bytea, channel text)
      RETURNS TABLE (pos bigint, entry bytea) LANGUAGE plpgsql AS $$ BEGIN RETURN; END $$`)
    const db = await open({ name: freshName(), tablePrefix: prefix })
    await db.transactionAsync(() => db.counter('c').add(1))
    const { rows } = await admin.query<{ src: string }>('SELECT prosrc AS src FROM pg_proc WHERE proname = $1', [`${prefix}commit_v3`])
    expect(rows[0]?.src).toContain('early lock release')
  })
})
