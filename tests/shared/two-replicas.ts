import { afterEach, vi } from 'vitest'
import { Database, type DatabaseOptions } from '../../src'
import { setExpressUpdates } from '../../src/table/express'

// Two replicas in this thread stand for two threads: each reads its own replica.
const open: Database[] = []
afterEach(() => {
  vi.restoreAllMocks()
  setExpressUpdates(true)
  for (const db of open.splice(0)) db.close()
})

/**
 * A shared database whose table `t` holds `rows`, and a second replica attached to it (`other`);
 * both are closed (and every spy restored) after the test. `options`: the database's (`logBytes`…).
 */
export function twoReplicas(rows: Array<Record<string, unknown>>, options: DatabaseOptions = {}) {
  const db = new Database({ ...options, shared: true })
  db.createTable('t').insert(rows)
  const other = Database.attach(db.handle())
  open.push(other, db)
  return { db, other, t: db.getTable('t'), o: other.getTable('t') }
}
