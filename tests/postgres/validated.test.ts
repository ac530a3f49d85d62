import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { ConnectedDatabase } from '../../src/postgres/index'
import { Statements } from '../../src/postgres/sql'
import { connectedClosedAfterEach, freshName } from './support'
import { pgUrl } from './server'

// Two processes' commits made on the same state at the same moment: transactionAsync runs its
// body before anything goes to the server, so both bodies read the same replica state and the
// commit that reaches the server second was made on a state that is no longer the latest.
describe('validated commits', () => {
  const open = connectedClosedAfterEach()

  /** Two databases on the same log, caught up with each other. */
  async function pair(setup: (db: ConnectedDatabase) => void): Promise<[ConnectedDatabase, ConnectedDatabase]> {
    const name = freshName()
    const a = await open({ name })
    await a.transactionAsync(() => setup(a))
    const b = await open({ name })
    await a.sync()
    return [a, b]
  }

  const doctors = (db: ConnectedDatabase): void => void db.createTable('doctors').insert([{ id: 'x', on: true }, { id: 'y', on: true }])

  it('two commits that each read both records by key and write one of them never both go through (no write skew)', async () => {
    const [a, b] = await pair(doctors)
    const leave = (db: ConnectedDatabase, id: string) => () => {
      const t = db.getTable('doctors')
      if (t.get('x')?.on === true && t.get('y')?.on === true) t.update({ on: false }, { id })
    }
    await Promise.all([a.transactionAsync(leave(a, 'x')), b.transactionAsync(leave(b, 'y'))])
    await a.sync()
    expect(a.getTable('doctors').count({ on: true })).toBe(1)
  })

  it('two commits that each counted the table and wrote one record never both go through', async () => {
    const [a, b] = await pair(doctors)
    const leave = (db: ConnectedDatabase, id: string) => () => {
      const t = db.getTable('doctors')
      if (t.count({ on: true }) >= 2) t.update({ on: false }, { id })
    }
    await Promise.all([a.transactionAsync(leave(a, 'x')), b.transactionAsync(leave(b, 'y'))])
    await a.sync()
    expect(a.getTable('doctors').count({ on: true })).toBe(1)
  })

  it('commits that write different records read by key both go through and every replica has both', async () => {
    const [a, b] = await pair(doctors)
    const bump = (db: ConnectedDatabase, id: string) => () => db.getTable('doctors').update({ on: false }, { id })
    await Promise.all([a.transactionAsync(bump(a, 'x')), b.transactionAsync(bump(b, 'y'))])
    await Promise.all([a.sync(), b.sync()])
    expect(a.getTable('doctors').count({ on: false })).toBe(2)
    expect(b.getTable('doctors').select()).toEqual(a.getTable('doctors').select())
  })

  it('two inserts of the same unique value under different keys at the same moment: one stored, the other rejected with DuplicateKeyError', async () => {
    const [a, b] = await pair((db) => void db.createTable('users', { indexes: [{ field: 'email', unique: true }] }))
    const add = (db: ConnectedDatabase, id: string) => () => db.getTable('users').insert({ id, email: 'ada@example.com' })
    const outcomes = await Promise.allSettled([a.transactionAsync(add(a, 'a')), b.transactionAsync(add(b, 'b'))])
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason as { code: string }).code).toBe('DuplicateKeyError')
    await a.sync()
    expect(a.getTable('users').count()).toBe(1)
  })

  it('two inserts with assigned keys at the same moment get different keys', async () => {
    const [a, b] = await pair((db) => void db.createTable('items'))
    const add = (db: ConnectedDatabase) => () => db.getTable('items').insert({ n: 1 })
    const keys = await Promise.all([a.transactionAsync(add(a)), b.transactionAsync(add(b))])
    expect(new Set(keys).size).toBe(2)
    await a.sync()
    expect(a.getTable('items').count()).toBe(2)
  })

  it('a read-only transaction whose record changed meanwhile runs again on the new value', async () => {
    const [a, b] = await pair(doctors)
    const both = () => [b.getTable('doctors').get('x')?.on, b.getTable('doctors').get('y')?.on]
    const [, seen] = await Promise.all([a.transactionAsync(() => a.getTable('doctors').update({ on: false }, {})), b.transactionAsync(both)])
    // Either before the update or after it, never half of it.
    expect([JSON.stringify([true, true]), JSON.stringify([false, false])]).toContain(JSON.stringify(seen))
  })

  /** Runs `body` with a client on a fresh log and its commit through Statements.commitIf. */
  async function onLog(body: (commit: (base: number, writes: string[]) => Promise<{ position: number | null }>, sql: Statements, client: pg.Client, name: string) => Promise<void>): Promise<void> {
    const name = freshName()
    const sql = new Statements('dictdb_')
    const client = new pg.Client(pgUrl())
    await client.connect()
    try {
      await sql.install(client, name)
      const commit = (base: number, writes: string[]) =>
        sql.commitIf(client, name, base, { reads: ['["c"]', ...writes], writes }, crypto.randomUUID(), new Uint8Array([0, 0, 0, 0]), 'dictdb_log')
      await body(commit, sql, client, name)
    } finally {
      await client.end()
    }
  }

  it('a commit based on an older position goes through when the entries after it wrote nothing it read', async () => {
    await onLog(async (commit) => {
      expect((await commit(0, ['["k","t","a"]'])).position).toBe(1)
      expect((await commit(1, ['["k","t","b"]'])).position).toBe(2)
      expect((await commit(1, ['["k","t","c"]'])).position).toBe(3)
    })
  })

  it('a commit based on an older position is refused when an entry after it wrote an item it read', async () => {
    await onLog(async (commit) => {
      expect((await commit(0, ['["k","t","a"]'])).position).toBe(1)
      expect((await commit(1, ['["k","t","b"]'])).position).toBe(2)
      expect((await commit(1, ['["k","t","c"]', '["k","t","b"]'])).position).toBeNull()
    })
  })

  it('an entry that lists no items (written by an earlier version) refuses every commit based before it', async () => {
    await onLog(async (commit, sql, client, name) => {
      expect((await commit(0, ['["k","t","a"]'])).position).toBe(1)
      await sql.append(client, name, 2, crypto.randomUUID(), new Uint8Array([0, 0, 0, 0]), 'dictdb_log')
      expect((await commit(1, ['["k","t","z"]'])).position).toBeNull()
      expect((await commit(2, ['["k","t","z"]'])).position).toBe(3)
    })
  })

  it('a commit based on a position the log was pruned past is refused', async () => {
    await onLog(async (commit, sql, client, name) => {
      expect((await commit(0, ['["k","t","a"]'])).position).toBe(1)
      expect((await commit(1, ['["k","t","b"]'])).position).toBe(2)
      await sql.saveSnapshot(client, name, 2, new Uint8Array(), 1)
      // Nothing written after position 0 is read, but what was written at 1 and 2 is not known any more.
      expect((await commit(0, ['["k","t","z"]'])).position).toBeNull()
      expect((await commit(2, ['["k","t","z"]'])).position).toBe(3)
    })
  })
})
