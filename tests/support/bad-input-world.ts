import { Database, type Ledger, type Table } from '../../src/index'

// The database the bad-input suites (tests/bad-input*.test.ts) call into: a table with unique and
// sorted indexes, a table with a schema, a ledger with a hold, and a counter.

/** The parts of a {@link world}. */
export interface World {
  db: Database
  users: Table
  typed: Table
  ledger: Ledger
}

/** A fresh database holding a little of everything. */
export function world(): World {
  const db = new Database()
  const users = db.createTable('users', { indexes: [{ field: 'email', unique: true }, { field: 'age', type: 'sorted' }] })
  users.insert([
    { id: 1, name: 'Ada', email: 'ada@x', age: 36, tags: ['a'], born: new Date(0), big: 1n },
    { id: 2, name: 'Bob', email: 'bob@x', age: 25 },
  ])
  const typed = db.createTable('typed', { schema: { name: 'string', qty: { type: 'integer', optional: true } } })
  typed.insert({ name: 'pen', qty: 1 })
  const ledger = db.ledger()
  ledger.openAccount('ann')
  ledger.deposit('ann', 100)
  ledger.hold('ann', 10, { ref: 'order-1' })
  db.counter('hits').add(1)
  return { db, users, typed, ledger }
}

/** A caller's value of the wrong type, passed through the types. */
export const any = (v: unknown) => v as never
