// More core behaviours written once with transactionAsync, run unchanged on a local, a
// worker-shared and a connected (PostgreSQL) database (see portable-core.ts): sequences,
// counters, schemas, escrow, rollbacks and index queries, each across two replicas.
import { expect, it } from 'vitest'
import { DuplicateKeyError, RecordNotFoundError, SchemaValidationError, count, sum, type Database } from '../../src/index'

/** The same suite on every mode; `open` as in portableSuite. */
export function portableHelpersSuite(open: () => Promise<{ db: Database; other: Database }>): void {
  it('sequence ids taken from two replicas at once are distinct and gap-free in their format', async () => {
    const { db, other } = await open()
    const take = (d: Database) => d.transactionAsync(() => d.sequence('order', { format: 'ORD-{0000}' }).next())
    const ids = await Promise.all([db, other, db, other, db, other].map(take))
    expect([...ids].sort()).toEqual(['ORD-0001', 'ORD-0002', 'ORD-0003', 'ORD-0004', 'ORD-0005', 'ORD-0006'])
    await other.sync()
    expect(other.sequence('order', { format: 'ORD-{0000}' }).current).toBe(6)
  })

  it('counter additions from two replicas at once are all counted', async () => {
    const { db, other } = await open()
    await Promise.all([db, other, db, other].map((d, i) => d.transactionAsync(() => d.counter('hits').add(i + 1))))
    await db.sync()
    expect(db.counter('hits').value).toBe(10)
  })

  it('a record that fails a type-string schema rejects with SchemaValidationError and nothing is stored', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('people', { schema: { name: 'string', age: 'integer' } }))
    await other.sync()
    const call = other.transactionAsync(() => {
      other.getTable('people').insert({ name: 'Ada', age: 36 })
      other.getTable('people').insert({ name: 'Bob', age: 'old' })
    })
    await expect(call).rejects.toBeInstanceOf(SchemaValidationError)
    await db.sync()
    expect(db.getTable('people').count()).toBe(0)
  })

  it('upsert with onConflict error on a stored key rejects with DuplicateKeyError', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('users').insert({ id: 'ada', name: 'Ada' }))
    await other.sync()
    await expect(other.transactionAsync(() => other.getTable('users').upsert({ id: 'ada', name: 'Eve' }, { onConflict: 'error' }))).rejects.toBeInstanceOf(DuplicateKeyError)
    expect(other.getTable('users').get('ada')).toEqual({ id: 'ada', name: 'Ada' })
  })

  it('a delete that matches nothing rejects with RecordNotFoundError', async () => {
    const { db } = await open()
    await db.transactionAsync(() => db.createTable('users').insert({ id: 1, name: 'Ada' }))
    await expect(db.transactionAsync(() => db.getTable('users').delete({ name: 'Nobody' }))).rejects.toBeInstanceOf(RecordNotFoundError)
    expect(db.getTable('users').count()).toBe(1)
  })

  it('a body that throws rejects with its error and none of its writes reach either replica', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('users'))
    const failure = new Error('changed my mind')
    const call = db.transactionAsync(() => {
      db.getTable('users').insert({ id: 1 })
      throw failure
    })
    await expect(call).rejects.toBe(failure)
    await other.sync()
    expect(db.getTable('users').count()).toBe(0)
    expect(other.getTable('users').count()).toBe(0)
  })

  it('a nested transaction that throws gives back only its own writes', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('users'))
    await db.transactionAsync(() => {
      const users = db.getTable('users')
      users.insert({ id: 1 })
      try {
        db.transaction(() => {
          users.insert({ id: 2 })
          throw new Error('inner')
        })
      } catch {
        // the inner level is rolled back; the outer one goes on
      }
      users.insert({ id: 3 })
    })
    await other.sync()
    expect(other.getTable('users').select().map((u) => u.id)).toEqual([1, 3])
  })

  it('an index created on one replica serves the other replica’s queries', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('people').insert(Array.from({ length: 50 }, (_, i) => ({ id: i, age: i }))))
    await db.transactionAsync(() => db.getTable('people').createIndex('age', { type: 'sorted' }))
    await other.sync()
    const people = other.getTable('people')
    const where = people.field('age').between(10, 12)
    expect(people.explain(where).strategy).toBe('index')
    expect(people.select({ where }).map((p) => p.id)).toEqual([10, 11, 12])
  })

  it('aggregates grouped by a field read the same on both replicas', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('sales').insert([
      { id: 1, city: 'Paris', total: 10 },
      { id: 2, city: 'Paris', total: 30 },
      { id: 3, city: 'Lyon', total: 5 },
    ]))
    await other.sync()
    const byCity = (d: Database) => d.getTable('sales').aggregate({ n: count(), total: sum('total') }, { groupBy: 'city' })
    expect(byCity(other)).toEqual(byCity(db))
  })

  it('funds held in escrow on one replica are released to another account from the other replica', async () => {
    const { db, other } = await open()
    const ledger = (d: Database) => d.ledger({ currency: 'EUR', scale: 2 })
    const escrow = await db.transactionAsync(() => {
      for (const id of ['buyer', 'seller']) ledger(db).openAccount(id)
      ledger(db).deposit('buyer', 1000n)
      return ledger(db).hold('buyer', 400n, { ref: 'order-1' })
    })
    await other.sync()
    await other.transactionAsync(() => ledger(other).release([escrow], { to: 'seller' }))
    await db.sync()
    expect([ledger(db).balance('buyer'), ledger(db).balance('seller')]).toEqual([600n, 400n])
    expect(ledger(db).audit().ok).toBe(true)
  })
}
