// Deadlock retries that converge: a transaction that lost a deadlock is re-run holding, from the
// start and in name order, the write locks of every table its lost attempt touched, and outranks
// first attempts when a deadlock picks its loser. Seed 004's find-or-create (read `customers`,
// take a number from a sequence, insert: an upgrade to write) is stepped so that every attempt
// of one caller meets another caller's transaction holding the read lock: the worst case.
import { afterEach, describe, expect, it } from 'vitest'
import { Workers, lockWaiters, sharedInts } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

interface Call {
  phone: string
  number?: string
  error?: { name: string; message: string }
  runs: number
}

describe('deadlock retries across worker_threads', () => {
  it("a find-or-create whose every attempt meets another's read lock still commits, retried once, with the default retries", async () => {
    const db = workers.database({ lockTimeoutMs: 10_000 })
    const customers = db.createTable('customers', { indexes: [{ field: 'phone', unique: true }, { field: 'customerNumber', unique: true }] })
    db.sequence('customer', { format: 'CUST{0000}' })
    const flags = sharedInts(5)
    // Attached in this order, the stepped caller has the highest thread slot: before retries
    // converged, it lost every deadlock of the two (the highest waiter backed off).
    const loop = workers.spawn('find-or-create-stepped', { db: db.handle(), flags, once: false })
    await loop.next('ready')
    const once = workers.spawn('find-or-create-stepped', { db: db.handle(), flags, once: true })
    await once.next('ready')
    workers.go()
    // The `once` caller goes on while the looping one holds the read lock at its gate: each of its
    // attempts meets that read lock. Otherwise a caller at its gate goes on once the other one
    // waits for a lock, as a reader or a writer (a caller's next first attempt can wait to read
    // behind the other's re-run, which holds both write locks at its gate): nothing is left to
    // force, and holding it back would stall both.
    const deadline = Date.now() + 60_000
    while (Atomics.load(flags, 4) === 0 && Date.now() < deadline) {
      const onceAtGate = Atomics.load(flags, 0) > Atomics.load(flags, 2)
      const loopAtGate = Atomics.load(flags, 1) > Atomics.load(flags, 3)
      const blocked = lockWaiters(db) > 0
      if (onceAtGate && (loopAtGate || blocked)) release(flags, 0)
      else if (loopAtGate && blocked) release(flags, 1)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    const [loopCalls, onceCalls] = await workers.results<Call[]>([loop, once])
    const calls = [...(loopCalls as Call[]), ...(onceCalls as Call[])]
    expect(onceCalls).toEqual([{ phone: 'once', number: expect.stringMatching(/^CUST\d{4}$/), runs: 2 }])
    expect(calls.filter((c) => c.error !== undefined)).toEqual([])
    expect(customers.count()).toBe(calls.length)
    expect(new Set(calls.map((c) => c.number)).size).toBe(calls.length)
    // Every re-run is counted once in db.stats(), on the table of the deadlock it lost.
    const retried = calls.reduce((n, c) => n + c.runs - 1, 0)
    expect(Object.values(db.stats().tables).reduce((n, t) => n + t.deadlockRetries, 0)).toBe(retried)
  })
})

/** Lets the next arrival of caller `who` (0: once, 1: loop) through its gate. */
function release(flags: Int32Array, who: number): void {
  Atomics.add(flags, 2 + who, 1)
  Atomics.notify(flags, 2 + who)
}
