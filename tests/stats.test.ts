// db.stats(): per table lock contention (waits, time waited, timeouts, deadlock retries).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, DeadlockError, LockTimeoutError } from '../src/index'

afterEach(() => {
  vi.restoreAllMocks()
})

function setup() {
  const db = new Database()
  const users = db.createTable('users')
  return { db, users }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('db.stats()', () => {
  it('reports every table with no contention on a fresh database', () => {
    const { db, users } = setup()
    users.insert({})
    db.createTable('orders')
    expect(db.stats().tables).toEqual({
      users: { waits: 0, waitedMs: 0, timeouts: 0, deadlockRetries: 0 },
      orders: { waits: 0, waitedMs: 0, timeouts: 0, deadlockRetries: 0 },
    })
  })

  it('reports no shared log for a local database', () => {
    expect(new Database({ shared: false }).stats()).toEqual({ tables: {} })
  })

  it('counts an acquisition that waited, and the time it waited', async () => {
    const { db, users } = setup()
    const hold = deferred()
    const holding = users.lock.write(() => hold.promise)
    const waiting = users.lock.write(() => 'second')
    await new Promise((resolve) => setTimeout(resolve, 20))
    hold.resolve()
    await holding
    expect(await waiting).toBe('second')
    const stats = db.stats().tables.users
    expect(stats?.waits).toBe(1)
    expect(stats?.waitedMs).toBeGreaterThan(0)
  })

  it('counts an acquisition that gave up with LockTimeoutError', async () => {
    const { db, users } = setup()
    const hold = deferred()
    const holding = users.lock.write(() => hold.promise)
    await expect(users.lock.write(() => 'never', { timeoutMs: 5 })).rejects.toThrow(LockTimeoutError)
    hold.resolve()
    await holding
    expect(db.stats().tables.users).toMatchObject({ waits: 1, timeouts: 1 })
  })

  it('counts a synchronous call refused because an async holder of this thread holds the lock as a timeout', async () => {
    const { db, users } = setup()
    const hold = deferred()
    const holding = users.lock.write(() => hold.promise)
    expect(() => users.insert({})).toThrow(LockTimeoutError)
    hold.resolve()
    await holding
    expect(db.stats().tables.users).toMatchObject({ waits: 0, timeouts: 1 })
  })

  it('counts each re-run of a transaction that lost a deadlock on the table', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0) // no backoff sleep
    const { db, users } = setup()
    let runs = 0
    db.transaction(() => {
      if (++runs < 3) throw new DeadlockError('lost', { table: 'users' })
      users.insert({})
    })
    expect(db.stats().tables.users?.deadlockRetries).toBe(2)
  })
})
