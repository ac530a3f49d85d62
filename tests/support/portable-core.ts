// Representative core behaviours written once with transactionAsync (the only way to write in
// every mode): the suites run them, unchanged, on a local, a worker-shared and a connected
// (PostgreSQL) database. The core suites themselves stay synchronous (see portable-code.ts).
import { expect, it } from 'vitest'
import { DuplicateKeyError, InsufficientFundsError, RecordNotFoundError, type Database } from '../../src/index'

interface Person {
  id?: number
  name: string
  email: string
  age: number
  city?: string
}

/** A people table with a unique index on email and a sorted one on age, and three people. */
async function people(db: Database): Promise<void> {
  await db.transactionAsync(() => {
    const t = db.createTable<Person>('people', {
      indexes: [{ field: 'email', unique: true }, { field: 'age', type: 'sorted' }],
    })
    t.insert([
      { name: 'Ada', email: 'ada@example.com', age: 36, city: 'London' },
      { name: 'Grace', email: 'grace@example.com', age: 45, city: 'New York' },
      { name: 'Alan', email: 'alan@example.com', age: 41, city: 'London' },
    ])
  })
}

/** The same core suite on every mode; `open` as in portableSuite. */
export function portableCoreSuite(open: () => Promise<{ db: Database; other: Database }>): void {
  it('records inserted, updated, upserted and deleted read the same on another replica after sync', async () => {
    const { db, other } = await open()
    await people(db)
    await db.transactionAsync(() => {
      const t = db.getTable('people')
      t.update({ city: 'Paris' }, { name: 'Ada' })
      t.upsert({ id: 3, name: 'Alan', email: 'alan@example.com', age: 42 })
      t.delete({ name: 'Grace' })
    })
    await other.sync()
    expect(other.getTable('people').all()).toEqual(db.getTable('people').all())
    expect(other.getTable('people').select({ columns: ['name', 'age', 'city'] })).toEqual([
      { name: 'Ada', age: 36, city: 'Paris' },
      { name: 'Alan', age: 42, city: 'London' },
    ])
  })

  it('queries with conditions, order and paging read the same on another replica after sync', async () => {
    const { db, other } = await open()
    await people(db)
    await other.sync()
    const query = (d: Database) => {
      const t = d.getTable<Person>('people')
      return t.select({ where: t.field('age').gt(40), orderBy: '-age', limit: 1, columns: ['name'] })
    }
    expect(query(other)).toEqual([{ name: 'Grace' }])
    expect(query(other)).toEqual(query(db))
    expect(other.getTable('people').count({ city: 'London' })).toBe(2)
  })

  it('a duplicate in a unique index rejects the call with DuplicateKeyError and stores none of it', async () => {
    const { db, other } = await open()
    await people(db)
    const call = other.transactionAsync(() => {
      other.getTable('people').insert({ name: 'Eve', email: 'eve@example.com', age: 30 })
      other.getTable('people').insert({ name: 'Ada again', email: 'ada@example.com', age: 37 })
    })
    await expect(call).rejects.toBeInstanceOf(DuplicateKeyError)
    await db.sync()
    expect(db.getTable('people').count()).toBe(3)
    expect(other.getTable('people').count()).toBe(3)
  })

  it('an update that matches nothing rejects with RecordNotFoundError', async () => {
    const { db } = await open()
    await people(db)
    await expect(db.transactionAsync(() => db.getTable('people').update({ age: 1 }, { name: 'Nobody' }))).rejects.toBeInstanceOf(RecordNotFoundError)
  })

  it('getOrCreate from two replicas at once creates one record', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => db.createTable('users'))
    await other.sync()
    const made = await Promise.all(
      [db, other, db, other].map((d) => d.transactionAsync(() => d.getTable('users').getOrCreate({ email: 'ada@example.com' }, { name: 'Ada' }).created)),
    )
    expect(made.filter(Boolean)).toHaveLength(1)
    await db.sync()
    expect(db.getTable('users').count()).toBe(1)
  })

  it('ledger transfers from two replicas conserve money and an overdraft rejects with InsufficientFundsError', async () => {
    const { db, other } = await open()
    await db.transactionAsync(() => {
      const ledger = db.ledger({ currency: 'EUR', scale: 2 })
      for (const id of ['a', 'b']) ledger.openAccount(id)
      ledger.deposit('a', 1000n)
      // b can pay its transfer whichever replica commits first (the three race).
      ledger.deposit('b', 100n)
    })
    await other.sync()
    const transfer = (d: Database, from: string, to: string, amount: bigint) => d.transactionAsync(() => d.ledger({ currency: 'EUR', scale: 2 }).transfer(from, to, amount))
    await Promise.all([transfer(db, 'a', 'b', 300n), transfer(other, 'b', 'a', 100n), transfer(other, 'a', 'b', 200n)])
    await expect(transfer(db, 'b', 'a', 10_000n)).rejects.toBeInstanceOf(InsufficientFundsError)
    await db.sync()
    const ledger = db.ledger({ currency: 'EUR', scale: 2 })
    expect([ledger.balance('a'), ledger.balance('b')]).toEqual([600n, 500n])
    expect(ledger.audit().ok).toBe(true)
  })

  it('createIndex and dropTable reach the other replica', async () => {
    const { db, other } = await open()
    await people(db)
    await db.transactionAsync(() => db.getTable('people').createIndex('city'))
    await other.sync()
    expect(other.getTable('people').hasIndex('city')).toBe(true)
    await other.transactionAsync(() => other.dropTable('people'))
    await db.sync()
    expect(db.hasTable('people')).toBe(false)
  })
}
