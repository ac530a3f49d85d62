// The catalog is shared: tables and indexes created or dropped in one thread are seen by all;
// a worker's db.close() detaches only that worker; handles are checked.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Database, InvalidArgumentError, InvalidStateError } from 'dictdb'
import { z } from 'zod'
import { Remote, Workers, memoryOf, sharedInts, waitUntil, writersWaiting } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

async function twoRemotes() {
  const db = workers.database()
  return { db, w1: await Remote.start(workers, db, 'w1'), w2: await Remote.start(workers, db, 'w2') }
}

describe('DDL seen by every thread', () => {
  it('a table created with an index in one worker is visible, with its records and index, in the others', async () => {
    const { db, w1, w2 } = await twoRemotes()
    await w1.call((db) => {
      const t = db.createTable('t1', { indexes: [{ field: 'g', type: 'sorted' }] })
      t.insert([{ g: 1 }, { g: 2 }, { g: 3 }])
    })
    const view = (db: Database) => {
      const t = db.getTable('t1')
      return { tables: db.listTables(), records: t.select(), indexes: t.indexedFields(), plan: t.explain(t.field('g').gt(1)).strategy, gt1: t.count(t.field('g').gt(1)) }
    }
    const expected = { tables: ['t1'], records: [{ id: 1, g: 1 }, { id: 2, g: 2 }, { id: 3, g: 3 }], indexes: ['g'], plan: 'index', gt1: 2 }
    expect(await w2.call(view)).toEqual(expected)
    expect(view(db)).toEqual(expected)
  })

  it('an index created or dropped in one worker is used and enforced in the others', async () => {
    const { db, w1, w2 } = await twoRemotes()
    db.createTable('t').insert([{ h: 1 }, { h: 2 }])
    await w2.call((db) => db.getTable('t').createIndex('h', { unique: true }))
    expect(await w1.try((db) => db.getTable('t').insert({ h: 2 }))).toMatchObject({ ok: false, error: { name: 'DuplicateKeyError' } })
    expect(() => db.getTable('t').insert({ h: 1 })).toThrow(/h/)
    expect(await w1.call((db) => db.getTable('t').explain({ h: 2 }).strategy)).toBe('index')
    await w1.call((db) => db.getTable('t').dropIndex('h'))
    expect(db.getTable('t').hasIndex('h')).toBe(false)
    // The refused inserts took no key.
    expect(await w2.call((db) => [db.getTable('t').hasIndex('h'), db.getTable('t').insert({ h: 1 })])).toEqual([false, 3])
  })

  it('a table dropped in the main thread is gone in the workers, and their table objects refuse to work', async () => {
    const { db, w1, w2 } = await twoRemotes()
    db.createTable('t').insert({ id: 1 })
    await w1.call((db, _d, scope) => void (scope.t = db.getTable('t')))
    db.dropTable('t')
    // The worker has not looked since: its first call through the old object must already fail.
    expect(await w1.try((_db, _d, scope) => scope.t.count())).toMatchObject({ ok: false, error: { name: 'TableNotFoundError', message: expect.stringMatching(/dropped/) } })
    expect(await w1.call((db) => [db.hasTable('t'), db.listTables()])).toEqual([false, []])
    // The name can be used again, for a new, empty table, seen everywhere.
    await w2.call((db) => db.createTable('t').insert({ fresh: true }))
    expect(db.getTable('t').select()).toEqual([{ id: 1, fresh: true }])
    expect(await w1.call((db) => db.getTable('t').select())).toEqual([{ id: 1, fresh: true }])
  })

  it('a write through the object of a table another thread dropped is refused and reaches no thread', async () => {
    const { db, w1 } = await twoRemotes()
    db.createTable('t').insert({ id: 1 })
    await w1.call((db, _d, scope) => void (scope.t = db.getTable('t')))
    db.dropTable('t')
    expect(await w1.try((_db, _d, scope) => scope.t.insert({ id: 2 }))).toMatchObject({ ok: false, error: { name: 'TableNotFoundError' } })
    expect(await w1.try((db, _d, scope) => db.transaction(() => scope.t.update({ x: 1 }, { id: 1 })))).toMatchObject({ ok: false, error: { name: 'TableNotFoundError' } })
    // Every replica still catches up (a record of an unknown table in the log would break them).
    expect(db.listTables()).toEqual([])
    db.createTable('u')
    expect(await w1.call((db) => db.listTables())).toEqual(['u'])
  })

  it('a write through the object of a table dropped and created again lands nowhere, not in the new table', async () => {
    const { db, w1 } = await twoRemotes()
    db.createTable('t').insert({ id: 1 })
    await w1.call((db, _d, scope) => void (scope.t = db.getTable('t')))
    db.dropTable('t')
    db.createTable('t')
    expect(await w1.try((_db, _d, scope) => scope.t.insert({ id: 2 }))).toMatchObject({ ok: false, error: { name: 'TableNotFoundError' } })
    expect(db.getTable('t').select()).toEqual([])
    expect(await w1.call((db) => db.getTable('t').select())).toEqual([])
  })

  it('two workers creating the same table at once: one creates it, the other gets DuplicateTableError', async () => {
    const { db, w1, w2 } = await twoRemotes()
    const replies = await Promise.all([w1, w2].map((w) => w.try((db) => db.createTable('race').name)))
    expect(replies.filter((r) => r.ok)).toHaveLength(1)
    expect(replies.filter((r) => !r.ok).map((r) => !r.ok && r.error.name)).toEqual(['DuplicateTableError'])
    expect(db.listTables()).toEqual(['race'])
  })

  it("a table object held across another thread's createIndex sees the index at once", async () => {
    const { db, w1 } = await twoRemotes()
    const t = db.createTable('t')
    expect(t.hasIndex('h')).toBe(false)
    await w1.call((db) => db.getTable('t').createIndex('h'))
    expect(t.hasIndex('h')).toBe(true)
    expect(t.indexedFields()).toEqual(['h'])
  })

  it('a plain dropTable racing a transaction that creates a table while holding it: both complete', async () => {
    const db = workers.database()
    db.createTable('a').insert({ id: 1, v: 0 })
    const flags = sharedInts(1)
    // The transaction holds `a` and will want the catalog; the drop takes the catalog and waits for `a`.
    const tx = workers.spawn('ddl-race', { db: db.handle(), role: 'tx', flags })
    await tx.next('holding')
    const drop = workers.spawn('ddl-race', { db: db.handle(), role: 'drop', flags })
    await drop.next('dropping')
    await waitUntil(() => writersWaiting(db) > 0, 5000, 'the drop to wait for the table')
    Atomics.store(flags, 0, 1)
    const [txResult, dropResult] = await Promise.all([tx.result, drop.result])
    // Whichever lost the deadlock was retried: no DeadlockError, and each applied once.
    expect(dropResult).toEqual({ ok: true })
    expect(txResult).toMatchObject({ ok: true })
    expect(db.listTables()).toEqual(txResult.runs === 1 ? ['c'] : [])
  })
})

describe('Standard Schema validators across threads', () => {
  const person = z.object({ id: z.number().int().optional(), name: z.string().min(1), age: z.number().int().nonnegative() })

  it('a worker given the validator with Database.attach(handle, { schemas }) validates as the creator does', async () => {
    const db = workers.database()
    db.createTable('people', { schema: person })
    const result = await workers.spawn('schema', { db: db.handle(), withSchema: true }).result
    expect(result.valid).toEqual({ ok: true, key: 1 })
    expect(result.invalid).toMatchObject({ ok: false, error: { name: 'SchemaValidationError' } })
    expect(db.getTable('people').all()).toEqual([{ id: 1, name: 'Ada', age: 36 }])
  })

  it('a worker not given the validator reads the table but may not write to it, and is told why', async () => {
    const db = workers.database()
    db.createTable('people', { schema: person }).insert({ name: 'Grace', age: 45 })
    const result = await workers.spawn('schema', { db: db.handle(), withSchema: false }).result
    expect(result.seen).toEqual([{ id: 1, name: 'Grace', age: 45 }])
    for (const attempt of [result.valid, result.invalid]) {
      expect(attempt).toMatchObject({ ok: false, error: { name: 'InvalidStateError', message: expect.stringMatching(/schemas: \{ people/) } })
    }
    expect(db.getTable('people').count()).toBe(1)
  })
})

describe('saving a shared database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dictdb-workers-'))

  it('a save right after a worker created a table includes it; after a worker dropped one, omits it', async () => {
    const { db, w1 } = await twoRemotes()
    db.createTable('old').insert({ id: 1 })
    await w1.call((db) => db.createTable('new').insert({ id: 1, made: 'in a worker' }))
    db.save(join(dir, 'created.json'))
    expect(Database.load(join(dir, 'created.json')).listTables()).toEqual(['old', 'new'])
    await w1.call((db) => db.dropTable('old'))
    db.save(join(dir, 'dropped.json'))
    const loaded = Database.load(join(dir, 'dropped.json'))
    expect(loaded.listTables()).toEqual(['new'])
    expect(loaded.getTable('new').all()).toEqual([{ id: 1, made: 'in a worker' }])
  })

  it('saves taken while workers run transactions in opposite orders are consistent and never fail', async () => {
    const db = workers.database()
    db.createTable('a').insert({ id: 1, v: 0 })
    db.createTable('b').insert({ id: 1, v: 0 })
    db.createTable('log')
    const flags = sharedInts(2)
    const ws = [
      workers.spawn('opposite', { db: db.handle(), i: 0, order: ['a', 'b'], flags, m: 150, maxM: 150, retries: 20, busyMs: 0.05 }),
      workers.spawn('opposite', { db: db.handle(), i: 1, order: ['b', 'a'], flags, m: 150, maxM: 150, retries: 20, busyMs: 0.05 }),
    ]
    await workers.start(ws)
    let finished = false
    const all = workers.results(ws).finally(() => (finished = true))
    let saves = 0
    while (!finished || saves < 3) {
      const file = join(dir, `during-${saves++}.json`)
      db.save(file)
      // Every transaction moves a, b and log together: any consistent snapshot has them equal.
      const loaded = Database.load(file)
      const [a, b, n] = [loaded.getTable('a').get(1)?.v, loaded.getTable('b').get(1)?.v, loaded.getTable('log').count()]
      expect({ a, b }).toEqual({ a: n, b: n })
      await new Promise((resolve) => setImmediate(resolve))
    }
    await all
    expect(db.getTable('log').count()).toBe(300)
  })
})

describe('closing and attaching', () => {
  it('db.close() in a worker detaches that worker only: the others go on', async () => {
    const { db, w1, w2 } = await twoRemotes()
    const t = db.createTable('t')
    const attached = () => Array.from({ length: 64 }, (_, s) => memoryOf(db).isAttached(s)).filter(Boolean).length
    expect(attached()).toBe(3)
    await w1.call((db) => db.close())
    expect(attached()).toBe(2)
    expect(await w1.try((db) => db.listTables())).toMatchObject({ ok: false, error: { name: 'InvalidStateError' } })
    t.insert({ by: 'main' })
    await w2.call((db) => db.getTable('t').insert({ by: 'w2' }))
    expect(t.select()).toEqual([{ id: 1, by: 'main' }, { id: 2, by: 'w2' }])
    expect(await w2.call((db) => db.getTable('t').count())).toBe(2)
  })

  it('handle() on a database that is not shared: InvalidStateError', () => {
    const db = new Database()
    expect(() => db.handle()).toThrow(InvalidStateError)
    expect(() => db.handle()).toThrow(/shared: true/)
  })

  it.each([
    ['null', null],
    ['a number', 42],
    ['a plain object', {}],
    ['a handle without buffers', { kind: 'dictdb-shared-database', lockTimeoutMs: 100 }],
    ['a handle with plain ArrayBuffers', { kind: 'dictdb-shared-database', lockTimeoutMs: 100, buffers: { control: new ArrayBuffer(64), log: new ArrayBuffer(64), snapshot: new ArrayBuffer(0) } }],
    ['buffers that are not a dictdb database', { kind: 'dictdb-shared-database', lockTimeoutMs: 100, buffers: { control: new SharedArrayBuffer(1 << 20), log: new SharedArrayBuffer(1 << 16), snapshot: new SharedArrayBuffer(0) } }],
  ])('Database.attach of %s: InvalidArgumentError', (_what, garbage) => {
    expect(() => Database.attach(garbage as never)).toThrow(InvalidArgumentError)
  })

  it('attach after the creating thread closed the database: InvalidStateError, in this thread and in a worker', async () => {
    const db = new Database({ shared: true })
    db.createTable('t')
    const handle = db.handle()
    db.close()
    expect(() => Database.attach(handle)).toThrow(InvalidStateError)
    expect(() => Database.attach(handle)).toThrow(/closed/)
    const inWorker = await workers.spawn('attach-only', { db: handle }).result
    expect(inWorker).toMatchObject({ ok: false, error: { name: 'InvalidStateError' } })
  })

  it('a worker attaching after others wrote starts from the current state', async () => {
    const db = workers.database()
    db.createTable('t', { indexes: [{ field: 'g' }] }).insert([{ g: 1 }, { g: 2 }])
    const w1 = await Remote.start(workers, db)
    await w1.call((db) => db.getTable('t').update({ g: 3 }, { id: 1 }))
    expect(await workers.spawn('attach-only', { db: db.handle() }).result).toEqual({ ok: true, tables: ['t'] })
    expect(await workers.spawn('read-state', { db: db.handle() }).result).toEqual({
      t: { records: [{ id: 1, g: 3 }, { id: 2, g: 2 }], indexes: ['g'] },
    })
  })
})
