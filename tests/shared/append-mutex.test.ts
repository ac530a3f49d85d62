// The shared log's append mutex, folded into the commit word (src/shared/append-mutex.ts): one
// compare-and-swap takes it, one swap publishes the new count and lets go; readers mask its bits;
// a waiter spins, then marks the word and sleeps; a dead holder's mutex is recovered; no wait is
// unbounded and no thread waits for itself.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LockTimeoutError } from '../../src/errors'
import { COMMIT_FLAGS, COMMIT_LOCKED, COMMIT_SLEEPER, lockAppend, recoverAppend, unlockAppend } from '../../src/shared/append-mutex'
import { H_APPENDER, H_COMMITS, H_FOLLOWERS } from '../../src/shared/layout'
import { SharedMemory } from '../../src/shared/memory'
import { waitWhileWorkerHolds } from './sleeping-holder'

const control = (): Int32Array => new Int32Array(new SharedArrayBuffer(64 * 4))
/** A count (the tail in 8-byte units, shifted past the mutex's bits). */
const COUNT = 40 << 2

afterEach(() => {
  vi.restoreAllMocks()
})

describe('lockAppend', () => {
  it('takes the word at the count it holds, names its holder, and a release publishes the next count', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    expect(lockAppend(i32, 4, 1000, COUNT)).toBe(COUNT)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
    expect(i32[H_APPENDER]).toBe(5)
    unlockAppend(i32, COUNT + 4)
    expect(i32[H_COMMITS]).toBe(COUNT + 4)
    expect(i32[H_APPENDER]).toBe(0)
  })

  it('takes a free word whatever count the caller guessed', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    for (const guess of [0, COUNT - 4, Number.NaN, -1]) {
      expect(lockAppend(i32, 2, 1000, guess)).toBe(COUNT)
      unlockAppend(i32, COUNT)
    }
  })

  it('refuses at once to wait for a mutex its own slot holds, marked by a sleeper or not', () => {
    const i32 = control()
    lockAppend(i32, 2, 1000, 0)
    expect(() => lockAppend(i32, 2, 60_000, 0)).toThrow(LockTimeoutError)
    Atomics.or(i32, H_COMMITS, COMMIT_SLEEPER)
    expect(() => lockAppend(i32, 2, 60_000, 0)).toThrow(/already holds the shared log's append mutex/)
  })

  it('gives up at the timeout on a mutex never released, having marked the word to sleep on it', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT | COMMIT_LOCKED // held by slot 7, which never lets go
    i32[H_APPENDER] = 8
    expect(() => lockAppend(i32, 1, 30, COUNT)).toThrow(/Timed out after 30 ms waiting for the shared log's append mutex/)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED | COMMIT_SLEEPER)
  })

  it('takes the mutex once another thread publishes and lets go, sleeping marked meanwhile', async () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    // The holder takes the word as slot 7, then publishes the next count as unlockAppend does.
    const holder = {
      index: H_COMMITS,
      held: COUNT | COMMIT_LOCKED,
      take: `Atomics.compareExchange(i32, ${H_COMMITS}, ${COUNT}, ${COUNT | COMMIT_LOCKED}); i32[${H_APPENDER}] = 8`,
      release: `i32[${H_APPENDER}] = 0
        if (Atomics.exchange(i32, ${H_COMMITS}, ${COUNT + 4}) & ${COMMIT_SLEEPER}) Atomics.notify(i32, ${H_COMMITS})`,
    }
    const marked = await waitWhileWorkerHolds(i32, holder, () => {
      expect(lockAppend(i32, 1, 60_000, COUNT)).toBe(COUNT + 4)
      expect(i32[H_COMMITS]).toBe((COUNT + 4) | COMMIT_LOCKED)
      expect(i32[H_APPENDER]).toBe(2)
    })
    expect(marked).toBe(COUNT | COMMIT_LOCKED | COMMIT_SLEEPER)
  })
})

describe('unlockAppend', () => {
  it('wakes the word only when a sleeper marked it or a follower waits for commits', () => {
    const notify = vi.spyOn(Atomics, 'notify')
    const i32 = control()
    lockAppend(i32, 0, 1000, 0)
    unlockAppend(i32, 4)
    expect(notify).not.toHaveBeenCalled()
    lockAppend(i32, 0, 1000, 4)
    Atomics.or(i32, H_COMMITS, COMMIT_SLEEPER)
    unlockAppend(i32, 8)
    expect(notify).toHaveBeenCalledTimes(1)
    i32[H_FOLLOWERS] = 1
    lockAppend(i32, 0, 1000, 8)
    unlockAppend(i32, 12)
    expect(notify).toHaveBeenCalledTimes(2)
    expect(notify).toHaveBeenCalledWith(i32, H_COMMITS)
    expect(i32[H_COMMITS]).toBe(12)
  })
})

describe('recoverAppend', () => {
  it("frees a dead slot's mutex, marked or not, keeping the count, and no other slot's", () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT | COMMIT_LOCKED
    i32[H_APPENDER] = 6
    expect(recoverAppend(i32, 4)).toBe(false)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
    expect(recoverAppend(i32, 5)).toBe(true)
    expect([i32[H_COMMITS], i32[H_APPENDER]]).toEqual([COUNT, 0])
    i32[H_COMMITS] = COUNT | COMMIT_LOCKED | COMMIT_SLEEPER
    i32[H_APPENDER] = 6
    expect(recoverAppend(i32, 5)).toBe(true)
    expect(i32[H_COMMITS]).toBe(COUNT)
  })

  it('does not free a mutex a live thread took after the dead one let go', () => {
    const i32 = control()
    lockAppend(i32, 5, 1000, 0)
    unlockAppend(i32, COUNT)
    lockAppend(i32, 3, 1000, COUNT)
    expect(recoverAppend(i32, 5)).toBe(false)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
  })
})

describe('the commit word', () => {
  it("gives readers the published count, the mutex's bits masked, while a thread holds it", () => {
    const mem = SharedMemory.create(1 << 16)
    const count = mem.lockAppend(0, 1000, mem.commits)
    mem.commit(64)
    mem.lockAppend(1, 1000, mem.commits)
    expect(Atomics.load(mem.i32, H_COMMITS) & COMMIT_FLAGS).toBe(COMMIT_LOCKED)
    expect(mem.commits).toBe((64 / 8) << 2)
    expect(mem.commits).not.toBe(count)
    expect(mem.tail).toBe(64)
  })
})
