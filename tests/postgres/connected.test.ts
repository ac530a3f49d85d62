import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { Database, DictDBError, InvalidStateError } from '../../src/index'
import { ConnectedDatabase, connect } from '../../src/postgres/index'
import { connectedClosedAfterEach, freshName } from './support'
import { Proxy } from './proxy'
import { pgUrl } from './server'

/** Runs one query on the test server. */
async function query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client(pgUrl())
  await client.connect()
  try {
    return (await client.query<R>(sql, values)).rows
  } finally {
    await client.end()
  }
}

const headOf = async (name: string): Promise<number> => Number((await query<{ position: string }>('SELECT position FROM dictdb_head WHERE name = $1', [name]))[0]?.position)

describe('a connected database', () => {
  const open = connectedClosedAfterEach()

  it('a write outside transactionAsync throws InvalidStateError naming it and changes nothing', async () => {
    const db = await open({ name: freshName() })
    await db.transactionAsync(() => db.createTable('users'))
    const users = db.getTable('users')
    const error = (() => {
      try {
        users.insert({ id: 1 })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(DictDBError)
    expect((error as DictDBError).code).toBe('InvalidStateError')
    expect((error as Error).message).toContain('transactionAsync')
    expect(users.count()).toBe(0)
    expect(() => db.createTable('other')).toThrow(/transactionAsync/)
    expect(db.hasTable('other')).toBe(false)
  })

  it('a write outside transactionAsync names the write it refused: its kind and its table', async () => {
    const db = await open({ name: freshName() })
    await db.transactionAsync(() => db.createTable('users').insert({ id: 1 }))
    const users = db.getTable('users')
    expect(() => users.insert({ id: 2 })).toThrow(/^An insert into `users`/)
    expect(() => users.update({ name: 'Ada' }, { id: 1 })).toThrow(/^An update of `users`/)
    expect(() => users.delete({ id: 1 })).toThrow(/^A delete from `users`/)
    expect(() => db.createTable('other')).toThrow(/^createTable `other`/)
    expect(() => db.sequence('ids').next()).toThrow(/transactionAsync/)
    expect(users.all()).toEqual([{ id: 1 }])
  })

  it('a process reads its own writes synchronously once transactionAsync resolved', async () => {
    const db = await open({ name: freshName() })
    await db.transactionAsync(() => db.createTable('users').insert({ id: 1, name: 'Ada' }))
    expect(db.getTable('users').get(1)).toEqual({ id: 1, name: 'Ada' })
  })

  it('close() resolves once the connection is closed, again when called twice, and every later call throws', async () => {
    const db = await connect({ url: pgUrl(), name: freshName() })
    expect(db).toBeInstanceOf(ConnectedDatabase)
    expect(db).toBeInstanceOf(Database)
    await db.transactionAsync(() => db.createTable('users'))
    await expect(db.close()).resolves.toBeUndefined()
    await expect(db.close()).resolves.toBeUndefined()
    expect(() => db.getTable('users')).toThrow(InvalidStateError)
  })

  it('a ConnectedDatabase is opened by connect() only: new ConnectedDatabase() throws InvalidStateError', () => {
    expect(() => new ConnectedDatabase({})).toThrow(InvalidStateError)
  })

  it('transactionAsync calls of one event-loop turn are committed as one log entry', async () => {
    const name = freshName()
    const db = await open({ name })
    await db.transactionAsync(() => db.createTable('hits'))
    const before = await headOf(name)
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => db.transactionAsync(() => db.getTable('hits').insert({ id: i }))))
    expect(ids.length).toBe(50)
    expect(await headOf(name)).toBe(before + 1)
  })

  it('without group commit each transactionAsync is its own log entry', async () => {
    const name = freshName()
    const db = await open({ name, groupCommit: false })
    await db.transactionAsync(() => db.createTable('hits'))
    const before = await headOf(name)
    await Promise.all(Array.from({ length: 5 }, (_, i) => db.transactionAsync(() => db.getTable('hits').insert({ id: i }))))
    expect(await headOf(name)).toBe(before + 5)
  })

  it('a process that joins after the log was pruned loads the snapshot and reads the same state', async () => {
    const name = freshName()
    const db = await open({ name, snapshotEvery: 10, groupCommit: false })
    await db.transactionAsync(() => db.createTable('items', { indexes: [{ field: 'n', type: 'sorted' }] }))
    for (let i = 0; i < 45; i++) await db.transactionAsync(() => (db.getTable('items').insert({ id: i, n: i * 2 }), db.counter('c').add(1)))
    await db.sync()
    const oldest = await query<{ min: string }>('SELECT min(position) AS min FROM dictdb_log WHERE name = $1', [name])
    expect(Number(oldest[0]?.min)).toBeGreaterThan(1)
    const late = await open({ name })
    expect(late.getTable('items').select()).toEqual(db.getTable('items').select())
    expect(late.counter('c').value).toBe(45)
    expect(late.getTable('items').explain(late.getTable('items').field('n').gte(10)).strategy).toBe('index')
  })

  it('a lost server rejects writes with ConnectionError after the lock timeout while reads keep working', async () => {
    const proxy = new Proxy(pgUrl())
    await proxy.start()
    const db = await open({ name: freshName(), url: proxy.url(pgUrl()), lockTimeoutMs: 500 })
    await db.transactionAsync(() => db.createTable('users').insert({ id: 1 }))
    await proxy.cut()
    const error = await db.transactionAsync(() => db.getTable('users').insert({ id: 2 })).catch((e: unknown) => e)
    expect((error as DictDBError).code).toBe('ConnectionError')
    expect(db.getTable('users').select()).toEqual([{ id: 1 }])
    await proxy.start()
    await db.transactionAsync(() => db.getTable('users').insert({ id: 3 }))
    expect(db.getTable('users').count()).toBe(2)
  })

  /** A database opened through a new proxy, named `name`, after one commit (counter `c` at 1). */
  async function throughProxy(name: string): Promise<{ proxy: Proxy; db: ConnectedDatabase }> {
    const proxy = new Proxy(pgUrl())
    await proxy.start()
    const db = await open({ name, url: proxy.url(pgUrl()) })
    await db.transactionAsync(() => db.counter('c').add(1))
    return { proxy, db }
  }

  /** When a commit's answer is lost: whether the proxy forwards the commit before cutting. */
  const LOST_ANSWERS: Array<[string, boolean]> = [
    ['after the server committed', true],
    ['before the server got it', false],
  ]

  // The validated commit is a call of the commit function (its name is in every message that
  // calls it); the locked path's commit is the message marked `/* locked */`.
  it.each(LOST_ANSWERS)('a validated commit whose answer was lost %s is looked up and applied exactly once', async (_, forward) => {
    const name = freshName()
    const { proxy, db } = await throughProxy(name)
    proxy.cutAtNext('commit_v', forward) // dictdb_commit_v3, or v4 (early)
    await expect(db.transactionAsync(() => db.counter('c').add(1))).resolves.toBe(2)
    expect(proxy.cutPending).toBe(false)
    expect(db.counter('c').value).toBe(2)
    const check = await open({ name })
    expect(check.counter('c').value).toBe(2)
  })

  it.each(LOST_ANSWERS)('a locked-path commit whose answer was lost %s is looked up and applied exactly once', async (_, forward) => {
    const name = freshName()
    const { proxy, db } = await throughProxy(name)
    const other = await open({ name })
    let adds = 1
    proxy.cutAtNext('/* locked */', forward)
    // Both add to the same counter at once: the commit that comes second meets a conflict and
    // takes the locked path (db's, through the proxy, almost always; else the next pair's).
    for (let i = 0; i < 20 && proxy.cutPending; i++) {
      await Promise.all([other.transactionAsync(() => other.counter('c').add(1)), db.transactionAsync(() => db.counter('c').add(1))])
      adds += 2
    }
    expect(proxy.cutPending).toBe(false)
    await db.sync()
    expect(db.counter('c').value).toBe(adds)
    const check = await open({ name })
    expect(check.counter('c').value).toBe(adds)
  })

  it('with connections terminated mid-run every resolved transaction is applied once and no rejected one', async () => {
    const name = freshName()
    const db = await open({ name, lockTimeoutMs: 2000 })
    await db.transactionAsync(() => db.createTable('done'))
    const outcomes = new Map<number, boolean>()
    let killing = true
    let killed = 0
    const killer = (async () => {
      while (killing) {
        const rows = await query<{ ended: boolean }>('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1', [`dictdb:${name}`.slice(0, 63)])
        killed += rows.filter((r) => r.ended).length
        await new Promise((resolve) => setTimeout(resolve, 15))
      }
    })()
    const streams = Array.from({ length: 4 }, async (_, s) => {
      for (let i = s; i < 200; i += 4) {
        const ok = await db.transactionAsync(() => (db.getTable('done').insert({ id: i }), db.counter('applied').add(1))).then(() => true, () => false)
        outcomes.set(i, ok)
      }
    })
    await Promise.all(streams)
    killing = false
    await killer
    const check = await open({ name })
    const resolved = [...outcomes].filter(([, ok]) => ok).map(([i]) => i).sort((a, b) => a - b)
    expect(check.getTable('done').select().map((r) => r.id)).toEqual(resolved)
    expect(check.counter('applied').value).toBe(resolved.length)
    expect(resolved.length).toBeGreaterThan(0)
    expect(killed).toBeGreaterThan(0)
  })
})
