// Seed 004's find-or-create (read the customer by phone, else take a number and insert it, in one
// transaction) run by two threads at once on one phone: both read `customers`, then each waits
// for a lock the other holds (the sequence's table, and `customers` to write): a true cycle
// across threads. dictdb detects it: the loser is rolled back (its number given back) and
// retried, up to `retries`, then gets DeadlockError (SPEC: Transactions).
import { afterEach, describe, expect, it } from 'vitest'
import { Workers, sharedInts } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

async function twoCallers(retries?: number) {
  const db = workers.database({ lockTimeoutMs: 20_000 })
  const customers = db.createTable('customers', { indexes: [{ field: 'phone', unique: true }] })
  const numbers = db.sequence('customer', { format: 'CUST{0000}' })
  const flags = sharedInts(1)
  const callers = workers.spawnMany('find-or-create-pair', 2, () => ({ db: db.handle(), flags, phone: '0600000001', retries }))
  await workers.start(callers)
  const results = await workers.results<{ number?: string; error?: { name: string }; runs: number }>(callers)
  return { db, customers, numbers, results }
}

describe("seed 004's find-or-create from two threads at once", () => {
  it('the deadlock is detected and the loser retried: both get the one customer, numbered CUST0001', async () => {
    const { db, customers, numbers, results } = await twoCallers()
    expect(results.map((r) => r.number)).toEqual(['CUST0001', 'CUST0001'])
    expect(results.map((r) => r.runs).sort()).toEqual([1, 2])
    expect(customers.select()).toEqual([{ id: expect.anything(), phone: '0600000001', customerNumber: 'CUST0001' }])
    expect(numbers.peek()).toBe('CUST0002')
    expect(Object.values(db.stats().tables).reduce((n, t) => n + t.deadlockRetries, 0)).toBe(1)
  })

  it('with retries: 0 the loser gets DeadlockError and leaves nothing behind: no customer, no number used', async () => {
    const { customers, numbers, results } = await twoCallers(0)
    expect(results.map((r) => r.error?.name ?? r.number).sort()).toEqual(['CUST0001', 'DeadlockError'])
    expect(results.map((r) => r.runs)).toEqual([1, 1])
    expect(customers.count()).toBe(1)
    expect(numbers.peek()).toBe('CUST0002')
  })
})
