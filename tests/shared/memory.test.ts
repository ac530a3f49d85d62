// The control block of a shared database: sizes that must not wrap, and the record of which
// thread started which (a worker dies with its parent, and is reaped with it).
import { describe, expect, it, vi } from 'vitest'
import { LockTimeoutError } from '../../src/errors'
import { SharedMemory, TAIL_TRIES } from '../../src/shared/memory'
import * as layout from '../../src/shared/layout'
import { H_APPEND, H_COMMITS, H_FOLLOWERS, H_HEAD, H_TAIL, LOCK_WORDS, LOCKS_BASE, THREADS_BASE, THREAD_WORDS, T_APPLIED } from '../../src/shared/layout'

/** The 64-byte cache line an Int32 word of the control block is on. */
const line = (word: number): number => Math.floor((word * 4) / 64)

describe('SharedMemory', () => {
  it('keeps a snapshot length past 2 GiB whole', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.snapshotLength = 2 ** 31 + 8
    expect(mem.snapshotLength).toBe(2 ** 31 + 8)
  })

  it('gives back each tail it published with its commit, past 4 GiB of log and past a wrapping count', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.i32[H_COMMITS] = -3 // the count wraps from -1 to 0 below
    for (const tail of [8, 2 ** 32 - 8, 2 ** 32, 2 ** 32 + 16, 3 * 2 ** 32 + 5, 2 ** 52 + 8]) {
      const count = mem.commit(tail)
      expect(mem.tailAt(count)).toBe(tail)
      expect(mem.tail).toBe(tail)
      expect(mem.tailHeld()).toBe(tail)
    }
    expect(mem.commits).toBe(3)
  })

  it('refuses a tail read with a count three or more commits old (its words may be rewritten), not one fewer', () => {
    const mem = SharedMemory.create(1 << 16)
    const count = mem.commit(100)
    mem.commit(200)
    mem.commit(300)
    expect(mem.tailAt(count)).toBe(100)
    mem.commit(400)
    expect(mem.tailAt(count)).toBe(-1)
  })

  it('gives up reading the tail with LockTimeoutError when every read finds 3 or more commits came between', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.commit(64)
    const tailAt = vi.spyOn(mem, 'tailAt').mockReturnValue(-1)
    expect(() => mem.tail).toThrow(LockTimeoutError)
    expect(tailAt).toHaveBeenCalledTimes(TAIL_TRIES)
    tailAt.mockRestore()
    expect(mem.tail).toBe(64)
  })

  it('a thread waiting for commits is counted under the append mutex and woken by the next commit', async () => {
    const mem = SharedMemory.create(1 << 16)
    // A wait far longer than the test: only a notify ends it in time.
    const woken = mem.commitsChanged(mem.commits, 60_000, 0, 1000).then(() => 'woken')
    expect(mem.i32[H_FOLLOWERS]).toBe(1)
    expect(mem.i32[H_APPEND]).toBe(0) // let go once counted
    mem.commit(64)
    const timer = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 4000).unref())
    expect(await Promise.race([woken, timer])).toBe('woken')
    expect(mem.i32[H_FOLLOWERS]).toBe(0)
  })

  it('a thread that cannot take the append mutex in time still waits for commits, uncounted, until its timeout', async () => {
    const mem = SharedMemory.create(1 << 16)
    mem.i32[H_APPEND] = 6 // held by thread 5, which never lets go
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

  it('the append mutex shares its cache line with no other header word', () => {
    // Every named header word (`H_…`); a 64-bit one takes two words.
    const named = Object.entries(layout).filter(([name]) => name.startsWith('H_') && name !== 'H_APPEND')
    const words = named.flatMap(([, w]) => [w as number, (w as number) + 1])
    expect(words.filter((w) => line(w) === line(H_APPEND))).toEqual([])
    expect([H_TAIL, H_HEAD, H_COMMITS, H_FOLLOWERS].map(line)).not.toContain(line(H_APPEND))
  })

  it('each thread slot and each lock slot starts a cache line of its own', () => {
    for (const slot of [0, 1, 2, 63]) expect(((THREADS_BASE + slot * THREAD_WORDS) * 4) % 64).toBe(0)
    expect(THREAD_WORDS % 16).toBe(0)
    expect((LOCK_WORDS * 4) % 64).toBe(0)
    expect((LOCKS_BASE * 4) % 64).toBe(0)
  })

  it("a thread's published applied position is whole, and apart from other threads'", () => {
    const mem = SharedMemory.create(1 << 16)
    mem.setApplied(1, 2 ** 40 + 8)
    mem.setApplied(2, 16)
    expect([mem.applied(1), mem.applied(2)]).toEqual([2 ** 40 + 8, 16])
    expect(line(mem.thread(1) + T_APPLIED)).not.toBe(line(mem.thread(2) + T_APPLIED))
  })

  it('a reaped child is no longer anyone\'s, not even the main thread\'s', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.recordChild(9, 0)
    mem.forgetChild(9)
    expect(mem.childrenOf(0)).toEqual([])
  })
})
