import { Database } from '../../src/index'

/** A database with two accounts (a unique index on `owner`) and an empty `log` table. */
export function accountsAndLog() {
  const db = new Database()
  const accounts = db.createTable('accounts', { indexes: [{ field: 'owner', unique: true }] })
  const log = db.createTable('log')
  accounts.insert([
    { id: 'alice', owner: 'Alice', balance: 100 },
    { id: 'bob', owner: 'Bob', balance: 20 },
  ])
  return { db, accounts, log }
}
