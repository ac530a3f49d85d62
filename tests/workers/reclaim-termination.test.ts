// A writer whose append frees ring space moves the ring's head past the last snapshot, and owes
// the next one (only a thread holding the whole state can write one). Terminated after moving
// the head, before its release, it never took it: the reaper freed the append mutex, but a
// thread that had to rebuild (one attaching, or one the ring overtook) waited, once writes
// stopped, for a snapshot that never came, until its lock timeout.
import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from 'dictdb'
import { H_HEAD, H_SNAP_POS, MAX_THREADS } from '../../src/shared/layout'
import { SharedMemory } from '../../src/shared/memory'
import { Workers } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

/** How many threads are attached. */
const attached = (mem: SharedMemory) => Array.from({ length: MAX_THREADS }, (_, s) => mem.isAttached(s)).filter(Boolean).length

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1))
}

/**
 * Starts the reclaim victim (fixtures/reclaim-victim.mjs, with `options`) on `db`, waits until it
 * stops at its store of the ring's head, terminates it and waits until it is reaped; returns how
 * many of its updates went through.
 */
async function terminatedAtHeadStore(db: Database, mem: SharedMemory, options: object): Promise<number> {
  const flags = new Int32Array(new SharedArrayBuffer(8))
  const victim = workers.spawn('reclaim-victim', { db: db.handle(), flags, head: H_HEAD, ...options })
  let failed = false
  void victim.result.catch(() => (failed = true))
  await until(() => Atomics.load(flags, 0) === 1 || failed)
  expect(Atomics.load(flags, 0)).toBe(1)
  const slots = attached(mem)
  await victim.worker.terminate()
  // The reaper runs on the worker's exit event, in this thread: its slot is free after it.
  await until(() => attached(mem) < slots)
  return Atomics.load(flags, 1)
}

describe('a writer terminated after its append moved the ring head', () => {
  it('leaves a snapshot that covers the head, taken by its reaper: a thread that attaches afterwards loads the state', async () => {
    const logBytes = 1 << 16
    const db = workers.database({ logBytes, lockTimeoutMs: 60_000 })
    const a = db.createTable('a')
    a.insert({ id: 1, v: 0 })
    const mem = SharedMemory.open(db.handle().buffers)
    // This thread fills most of the ring itself, so that it holds the state up to the tail when
    // the victim's append reclaims (it is not overtaken, and can catch up past the new head).
    let v = 0
    while (mem.applied(0) < logBytes - 8192) a.update({ v: ++v }, { id: 1 })
    expect(mem.head).toBe(0)
    const wrote = await terminatedAtHeadStore(db, mem, {})
    expect(mem.head).toBeGreaterThan(0)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    // A thread that attaches now rebuilds from the snapshot (a short lock timeout: it would wait for one in vain).
    const fresh = workers.track(Database.attach({ ...db.handle(), lockTimeoutMs: 2_000 }))
    expect(fresh.getTable('a').get(1)).toEqual({ id: 1, v: v + wrote })
    expect(a.get(1)).toEqual({ id: 1, v: v + wrote })
  })
})

describe('a writer terminated after its append moved the ring head past every other replica', () => {
  it.each([
    ['its increments, the head moved on the ring\'s first pass (the general path)', {}],
    ['its express updates, the head moved on the ring\'s second pass (in place)', { plain: true, owedPast: 1 << 16, snap: H_SNAP_POS }],
  ])('took the snapshot before it moved the head: the overtaken thread rebuilds with every update that went through (%s), and a new thread attaches', async (_, mode) => {
    const logBytes = 1 << 16
    // A short lock timeout for this thread: without that snapshot its rebuild would wait in vain.
    const db = workers.database({ logBytes, lockTimeoutMs: 2_000 })
    const a = db.createTable('a')
    a.insert({ id: 1, v: 0 })
    const mem = SharedMemory.open(db.handle().buffers)
    // This thread stays idle: the victim fills the ring itself, so its reclaim overtakes this
    // thread's replica (the only other one), which holds none of its commits.
    const wrote = await terminatedAtHeadStore(db, mem, mode)
    expect(mem.head).toBeGreaterThan('owedPast' in mode ? logBytes : 0)
    expect(mem.applied(0)).toBeLessThan(mem.head)
    expect(a.get(1)).toEqual({ id: 1, v: wrote })
    a.update({ v: wrote + 1 }, { id: 1 })
    expect(a.get(1)).toEqual({ id: 1, v: wrote + 1 })
    const fresh = workers.track(Database.attach({ ...db.handle(), lockTimeoutMs: 2_000 }))
    expect(fresh.getTable('a').get(1)).toEqual({ id: 1, v: wrote + 1 })
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
  })
})

describe('a writer terminated after its append of ops already applied in its replica moved the ring head past every other replica', () => {
  it.each([
    ['a transaction over two tables', 'txn'],
    ['an update through a filter', 'many'],
    ['a counter', 'counter'],
  ])('took the snapshot of the state before those ops, before it moved the head: the overtaken thread rebuilds with every commit that went through (%s)', async (_, kind) => {
    const logBytes = 1 << 16
    // A short lock timeout for this thread: without that snapshot its rebuild would wait in vain.
    const db = workers.database({ logBytes, lockTimeoutMs: 2_000 })
    const a = db.createTable('a')
    const b = db.createTable('b')
    a.insert({ id: 1, v: 0 })
    const hits = db.counter('hits')
    const mem = SharedMemory.open(db.handle().buffers)
    // This thread stays idle: the victim fills the ring itself (see above).
    const wrote = await terminatedAtHeadStore(db, mem, { kind })
    expect(mem.head).toBeGreaterThan(0)
    expect(mem.applied(0)).toBeLessThan(mem.head)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    // The commit in flight when it stopped was never published: it is in no thread's state.
    expect(a.get(1)).toEqual({ id: 1, v: kind === 'counter' ? 0 : wrote })
    expect(b.count()).toBe(kind === 'txn' ? wrote : 0)
    expect(hits.value).toBe(kind === 'counter' ? wrote : 0)
    a.update({ v: increment(1) }, { id: 1 })
    const fresh = workers.track(Database.attach({ ...db.handle(), lockTimeoutMs: 2_000 }))
    expect(fresh.getTable('a').get(1)).toEqual(a.get(1))
    expect(fresh.getTable('b').count()).toBe(b.count())
    expect(fresh.counter('hits').value).toBe(hits.value)
  })
})
