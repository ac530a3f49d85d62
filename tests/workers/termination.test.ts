// A worker that dies holding locks blocks nobody beyond the moment it dies, and its uncommitted
// changes never appear; a worker that holds a lock forever makes others give up at the timeout.
import { afterEach, describe, expect, it } from 'vitest'
import { Database, LockTimeoutError, increment } from 'dictdb'
import { COMMIT_LOCKED } from '../../src/shared/append-mutex'
import { H_COMMITS, H_FOLLOWERS, L_WAITERS, MAX_THREADS, THREADS_BASE, THREAD_WORDS, T_APPENDING, T_STATE, T_THREAD_ID } from '../../src/shared/layout'
import { Remote, Workers, memoryOf, sharedInts, waitUntil, writersWaiting } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

// Longer than a test's time limit (30 s): a wait that ended only at the lock timeout, not at the
// holder's death, fails the test by its time limit, so "at once" needs no clock in the test.
const LOCK_TIMEOUT_MS = 60_000

function setup(lockTimeoutMs = LOCK_TIMEOUT_MS) {
  const db = workers.database({ lockTimeoutMs })
  const a = db.createTable('a')
  a.insert({ id: 1, v: 0 })
  const b = db.createTable('b')
  return { db, a, b, flags: sharedInts(1) }
}

/** A worker blocked in a write on `a` (it registered as a waiting writer). */
async function blockedWriter(db: Database, data: Record<string, unknown> = {}) {
  const waiter = workers.spawn('write-one', { db: db.handle(), ...data })
  await waiter.next('attached')
  await waitUntil(() => writersWaiting(db) > 0, 5000, 'the writer to wait')
  return waiter
}

describe('a worker terminated while holding locks', () => {
  it('terminated inside lock.writeSync: a waiting worker and the main thread proceed at once', async () => {
    const { db, a, flags } = setup()
    const holder = workers.spawn('hold', { db: db.handle(), mode: 'write', flags })
    await holder.next('holding')
    expect(a.lock.locked).toBe(true)
    const waiter = await blockedWriter(db)

    await holder.worker.terminate()
    expect(await waiter.result).toMatchObject({ ok: true })
    a.update({ v: increment(1) }, { id: 1 })
    expect(a.get(1)?.v).toBe(2)
    expect(a.lock.locked).toBe(false)
  })

  it("terminated holding the shared log's append mutex: the main thread's next write proceeds at once", async () => {
    const { db, a, flags } = setup()
    const words = { threadsBase: THREADS_BASE, threadWords: THREAD_WORDS, state: T_STATE, thread: T_THREAD_ID, maxThreads: MAX_THREADS, commits: H_COMMITS, appending: T_APPENDING, locked: COMMIT_LOCKED }
    const holder = workers.spawn('hold-append', { db: db.handle(), flags, words })
    await holder.next('holding')
    expect(memoryOf(db).appendLocked).toBe(true)

    await holder.worker.terminate()
    expect(memoryOf(db).appendLocked).toBe(false)
    a.update({ v: increment(1) }, { id: 1 })
    expect(a.get(1)?.v).toBe(1)
  })

  it('terminated half-way through a transaction: nothing of it appears, in any thread', async () => {
    const { db, a, b, flags } = setup()
    const holder = workers.spawn('hold', { db: db.handle(), mode: 'half', flags })
    await holder.next('holding')
    expect(a.get(1)?.v).toBe(0) // not committed: invisible even before the worker dies
    const waiter = await blockedWriter(db, { tx: true })

    await holder.worker.terminate()
    expect(await waiter.result).toMatchObject({ ok: true })
    expect(a.get(1)?.v).toBe(1)
    expect(b.select()).toEqual([{ id: 'after' }])
    // A thread attaching now rebuilds from the shared state: the same, without the half transaction.
    const fresh = await workers.spawn('read-state', { db: db.handle() }).result
    expect(fresh).toEqual({ a: { records: [{ id: 1, v: 1 }], indexes: [] }, b: { records: [{ id: 'after' }], indexes: [] } })
  })

  it('terminated holding a read lock inside a transaction: a writer proceeds at once', async () => {
    const { db, a, flags } = setup()
    const holder = workers.spawn('hold', { db: db.handle(), mode: 'txRead', flags })
    await holder.next('holding')
    expect(() => a.lock.writeSync(() => 'never', { timeoutMs: 50 })).toThrow(LockTimeoutError)
    await holder.worker.terminate()
    a.update({ v: increment(1) }, { id: 1 })
    expect(a.get(1)?.v).toBe(1)
  })

  it('terminated while waiting to write: its place in the queue does not hold back readers', async () => {
    const { db, a, flags } = setup()
    const holder = workers.spawn('hold', { db: db.handle(), mode: 'write', flags })
    await holder.next('holding')
    const waiter = await blockedWriter(db)
    await waiter.worker.terminate()
    expect(writersWaiting(db)).toBe(0)
    await holder.worker.terminate()
    // A writer still counted as waiting would keep new readers out (writer preference): this
    // read would give up with LockTimeoutError.
    expect(a.lock.readSync(() => a.count(), { timeoutMs: 1000 })).toBe(1)
    expect(a.lock.locked).toBe(false)
  })

  it('terminated while the main thread awaits lock.write: the wait ends right after', async () => {
    const { db, a, flags } = setup()
    const holder = workers.spawn('hold', { db: db.handle(), mode: 'write', flags })
    await holder.next('holding')
    const acquired = a.lock.write(() => 'acquired')
    await holder.worker.terminate()
    expect(await acquired).toBe('acquired')
  })

  /** A worker with a change feed open, waiting for commits (counted as a follower of the log). */
  async function startFollower(db: Database, mem: ReturnType<typeof memoryOf>): Promise<Remote> {
    const follower = await Remote.start(workers, db)
    await follower.call((db, _dictdb, scope) => {
      scope.feed = db.changes()[Symbol.asyncIterator]()
      scope.next = scope.feed.next()
    })
    await waitUntil(() => Atomics.load(mem.i32, H_FOLLOWERS) === 1, 5000, 'the worker to follow the log')
    return follower
  }

  it('terminated while following the log (a change feed open): its wait for commits is uncounted, appends wake nobody for it', async () => {
    const { db, a } = setup()
    const mem = memoryOf(db)
    const follower = await startFollower(db, mem)
    await follower.running.worker.terminate()
    a.update({ v: increment(1) }, { id: 1 })
    expect(Atomics.load(mem.i32, H_FOLLOWERS)).toBe(0)
  })

  it('closed while following the log, then terminated: its wait for commits is uncounted', async () => {
    const { db } = setup()
    const mem = memoryOf(db)
    const follower = await startFollower(db, mem)
    await follower.call((db) => db.close())
    await follower.running.worker.terminate()
    expect(Atomics.load(mem.i32, H_FOLLOWERS)).toBe(0)
  })

  it('gives the dead thread\'s slot back', async () => {
    const { db, flags } = setup()
    const mem = memoryOf(db)
    const attached = () => Array.from({ length: 64 }, (_, s) => mem.isAttached(s)).filter(Boolean).length
    expect(attached()).toBe(1)
    const holder = workers.spawn('hold', { db: db.handle(), mode: 'write', flags })
    await holder.next('holding')
    expect(attached()).toBe(2)
    await holder.worker.terminate()
    await waitUntil(() => attached() === 1, 5000, 'the slot to be reaped')
  })
})

describe('workers the database did not see start', () => {
  it('a pool worker started before the database existed is reaped when terminated', async () => {
    const pooled = workers.spawn('late-attach', {})
    await pooled.next('started')
    const { db, a } = setup()
    pooled.post(db.handle())
    await pooled.next('holding')
    await pooled.worker.terminate()
    expect(a.update({ v: increment(1) }, { id: 1 })).toBe(1)
  })

  // A worker's death is seen through its 'exit' event, in the thread that started it. A worker
  // started by a worker dies with its parent, whose event loop is gone: the parentage recorded in
  // shared memory lets whoever reaps the parent reap the child too.
  it('a worker started by a worker, killed with its parent while holding a lock, is reaped', async () => {
    const { db, a } = setup(300)
    const outer = workers.spawn('nested', { db: db.handle(), depth: 1 })
    await outer.next('holding')
    await outer.worker.terminate()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(() => a.update({ v: increment(1) }, { id: 1 })).not.toThrow()
  })
})

describe('a worker that never releases its lock', () => {
  const TIMEOUT = 300

  async function heldForever() {
    const s = setup(TIMEOUT)
    const holder = workers.spawn('hold', { db: s.db.handle(), mode: 'write', flags: s.flags, holdMs: 20_000 })
    await holder.next('holding')
    return { ...s, holder }
  }

  it('a synchronous write in the main thread gives up with LockTimeoutError after ~lockTimeoutMs', async () => {
    const { a } = await heldForever()
    const start = performance.now()
    expect(() => a.update({ v: increment(1) }, { id: 1 })).toThrow(LockTimeoutError)
    const ms = performance.now() - start
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 5)
    expect(a.get(1)?.v).toBe(0)
  })

  it('an async lock.write and a transaction read give up with LockTimeoutError too', async () => {
    const { db, a } = await heldForever()
    await expect(a.lock.write(() => 'never')).rejects.toBeInstanceOf(LockTimeoutError)
    expect(() => db.transaction(() => a.get(1))).toThrow(LockTimeoutError)
    // A single read takes no cross-thread lock: it answers at once with the last commit.
    expect(a.get(1)).toEqual({ id: 1, v: 0 })
  })

  it('another worker gives up with LockTimeoutError, then writes once the holder lets go', async () => {
    const { db, a, flags, holder } = await heldForever()
    const other = await workers.spawn('write-one', { db: db.handle() }).result
    expect(other).toMatchObject({ ok: false, error: { name: 'LockTimeoutError' } })
    expect(other.ms).toBeGreaterThanOrEqual(TIMEOUT - 5)
    Atomics.store(flags, 0, 1)
    expect(await holder.result).toBe('released')
    expect(await workers.spawn('write-one', { db: db.handle() }).result).toMatchObject({ ok: true })
    expect(a.get(1)?.v).toBe(1)
  })
})

describe('a worker terminated while awaiting locks', () => {
  it('terminated while awaiting two table locks: both tables are free for readers and writers at once', async () => {
    const db = workers.database({ lockTimeoutMs: 1000 })
    const a = db.createTable('a')
    const b = db.createTable('b')
    let release = (): void => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const holds = [a.lock.write(() => held), b.lock.write(() => held)]
    const worker = await Remote.start(workers, db)
    await worker.call((db, _dictdb, scope) => {
      scope.waits = Promise.allSettled([db.getTable('a').lock.write(() => 1), db.getTable('b').lock.write(() => 1)])
    })
    await waitUntil(() => writersWaiting(db) === 2, 5000, 'the worker to wait for both locks')
    await worker.running.worker.terminate()
    release()
    await Promise.all(holds)
    expect(writersWaiting(db)).toBe(0)
    const mem = memoryOf(db)
    expect([1, 2].map((lock) => Atomics.load(mem.i32, mem.lock(lock) + L_WAITERS))).toEqual([0, 0])
    // Readers are not held back by a writer that will never come.
    expect(db.transaction(() => [a.count(), b.count()])).toEqual([0, 0])
  })
})
