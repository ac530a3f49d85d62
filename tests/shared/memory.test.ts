// The control block of a shared database: sizes that must not wrap, and the record of which
// thread started which (a worker dies with its parent, and is reaped with it).
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors'
import { MAX_LOG_BYTES, SharedMemory, tailAfter } from '../../src/shared/memory'
import { COMMIT_LOCKED, appendingFlag } from '../../src/shared/append-mutex'
import { H_COMMITS, H_FOLLOWERS, H_PROTOCOL, PROTOCOL } from '../../src/shared/layout'
import { Database } from '../../src/index'

/** Appends up to log position `tail` as a writer does: takes the append mutex, publishes and lets go. */
function publish(mem: SharedMemory, tail: number): number {
  mem.lockAppend(0, 1000, mem.commits)
  return mem.commit(0, tail)
}

describe('SharedMemory', () => {
  it('refuses a handle made by a build of dictdb with another shared protocol, leaving the database usable', () => {
    const db = new Database({ shared: true })
    db.createTable('t').insert({ id: 1 })
    const handle = db.handle()
    const control = new Int32Array(handle.buffers.control as SharedArrayBuffer)
    control[H_PROTOCOL] = PROTOCOL + 1
    expect(() => Database.attach(handle)).toThrow(/another build of dictdb \(shared protocol \d+, this one reads \d+\)/)
    try {
      Database.attach(handle)
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect((e as InvalidArgumentError).code).toBe('InvalidArgumentError')
    }
    control[H_PROTOCOL] = PROTOCOL
    expect(Database.attach(handle).getTable('t').get(1)).toEqual({ id: 1 })
  })

  it('refuses a handle whose control block has another size than this build lays out', () => {
    const mem = SharedMemory.create(1 << 16)
    const bigger = new SharedArrayBuffer(mem.buffers.control.byteLength + 64)
    new Int32Array(bigger).set(new Int32Array(mem.buffers.control))
    expect(() => SharedMemory.open({ ...mem.buffers, control: bigger })).toThrow(InvalidArgumentError)
    expect(() => SharedMemory.open({ ...mem.buffers, control: new SharedArrayBuffer(4) })).toThrow(/not a dictdb shared database/)
  })

  it('keeps a snapshot length past 2 GiB whole', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.snapshotLength = 2 ** 31 + 8
    expect(mem.snapshotLength).toBe(2 ** 31 + 8)
  })

  it('gives back each tail it published, past 4 GiB and 8 GiB of log, from any position up to 4 GiB below it', () => {
    const mem = SharedMemory.create(1 << 16)
    for (const tail of [8, 2 ** 32 - 8, 2 ** 32, 2 ** 32 + 16, 2 ** 33 - 8, 2 ** 33, 2 ** 35 + 40, 2 ** 52 + 8]) {
      const before = mem.commits
      expect(publish(mem, tail)).toBe(mem.commits)
      expect(mem.commits).not.toBe(before)
      for (const below of [0, 8, 2 ** 20, 2 ** 32]) {
        if (below <= tail) expect(tailAfter(tail - below, mem.commits)).toBe(tail)
      }
    }
  })

  it('gives the last published tail while a thread holds the append mutex', () => {
    const mem = SharedMemory.create(1 << 16)
    publish(mem, 2 ** 33 + 64)
    const count = mem.lockAppend(3, 1000, mem.commits)
    expect(mem.appendLocked).toBe(true)
    expect(mem.commits).toBe(count)
    expect(tailAfter(2 ** 33, mem.commits)).toBe(2 ** 33 + 64)
  })

  it('reads the tail against the ring\'s head, which is at most one ring below it', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.head = 2 ** 35 - 1024
    publish(mem, 2 ** 35 + 4096)
    expect(mem.tail).toBe(2 ** 35 + 4096)
  })

  it('says the ring\'s head is past a position exactly when it is, around each 2^32 boundary of its 64-bit word\'s halves', () => {
    const mem = SharedMemory.create(1 << 16)
    for (const head of [8, 2 ** 31, 2 ** 32 - 8, 2 ** 32, 2 ** 32 + 8, 2 ** 35, 2 ** 40 + 2 ** 32 - 8, 2 ** 52]) {
      mem.head = head
      const below = [head - 8, head - 2 ** 31, head - 2 ** 32, head - 2 ** 32 - 8].filter((pos) => pos >= 0)
      for (const pos of below) expect(mem.headPast(pos), `head ${head}, position ${pos}`).toBe(true)
      for (const pos of [head, head + 8, head + 2 ** 32]) expect(mem.headPast(pos), `head ${head}, position ${pos}`).toBe(false)
    }
  })

  it('moves the commit word with every append: an entry takes 8 bytes or more', () => {
    const mem = SharedMemory.create(1 << 16)
    const words = [8, 16, 24].map((tail) => publish(mem, tail))
    expect(new Set(words).size).toBe(3)
  })

  it('refuses a log ring larger than 4 GiB (the tail is rebuilt from a 30-bit count of 8-byte units)', () => {
    expect(() => SharedMemory.create(MAX_LOG_BYTES + 8)).toThrow(InvalidArgumentError)
  })

  it('a thread waiting for commits is counted under the append mutex and woken by the next commit', async () => {
    const mem = SharedMemory.create(1 << 16)
    // A wait far longer than the test: only a notify ends it in time.
    const woken = mem.commitsChanged(mem.commits, 60_000, 0, 1000).then(() => 'woken')
    expect(mem.i32[H_FOLLOWERS]).toBe(1)
    expect(mem.appendLocked).toBe(false) // let go once counted
    publish(mem, 64)
    const timer = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 4000).unref())
    expect(await Promise.race([woken, timer])).toBe('woken')
    expect(mem.i32[H_FOLLOWERS]).toBe(0)
  })

  it('a thread waiting for commits keeps waiting while others take and give back the append mutex with nothing appended, until a commit', async () => {
    const mem = SharedMemory.create(1 << 16)
    let done = false
    // A wait far longer than the test: only the commit at the end ends it in time.
    const waited = mem.commitsChanged(mem.commits, 600_000, 0, 1000).then(() => (done = true))
    for (let i = 0; i < 20; i++) {
      // A pause that lets the waiter wake on each release's notify and wait again.
      await new Promise((resolve) => setTimeout(resolve, 5))
      mem.unlockAppend(1, mem.lockAppend(1, 1000, mem.commits))
    }
    expect(done).toBe(false)
    publish(mem, 64)
    await waited
    expect(mem.i32[H_FOLLOWERS]).toBe(0)
  })

  it('a thread that cannot take the append mutex in time still waits for commits, uncounted, until its timeout', async () => {
    const mem = SharedMemory.create(1 << 16)
    Atomics.or(mem.i32, H_COMMITS, COMMIT_LOCKED) // held by thread 5, which never lets go
    mem.i32[appendingFlag(5)] = 1
    const wait = mem.commitsChanged(mem.commits, 20, 0, 10)
    expect(mem.i32[H_FOLLOWERS]).toBe(0)
    await expect(wait).resolves.toBeUndefined()
    expect(mem.i32[H_FOLLOWERS]).toBe(0)
  })

  it('a long-lived pool that starts and reaps thousands of workers never overwrites a live parentage', () => {
    const mem = SharedMemory.create(1 << 16)
    expect(mem.recordChild(7, 3)).toBe(true) // a nested worker, alive all along
    for (let child = 100; child < 5100; child++) {
      expect(mem.recordChild(child, 1)).toBe(true)
      mem.forgetChild(child) // reaped when it exits
    }
    expect(mem.childrenOf(3)).toEqual([7])
  })

  it("a thread's published applied position is whole", () => {
    const mem = SharedMemory.create(1 << 16)
    mem.setApplied(1, 2 ** 40 + 8)
    mem.setApplied(2, 16)
    expect([mem.applied(1), mem.applied(2)]).toEqual([2 ** 40 + 8, 16])
  })

  it('a reaped child is no longer anyone\'s, not even the main thread\'s', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.recordChild(9, 0)
    mem.forgetChild(9)
    expect(mem.childrenOf(0)).toEqual([])
  })
})
