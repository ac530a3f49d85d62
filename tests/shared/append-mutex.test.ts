// The shared log's append mutex, folded into the commit word (src/shared/append-mutex.ts): one
// compare-and-swap takes it, one swap publishes the new count and lets go, and the holder's own
// flag says it holds it; readers mask its bits; a waiter spins, then marks the word and sleeps; a
// dead holder's mutex is recovered; no wait is unbounded and no thread waits for itself.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LockTimeoutError } from '../../src/errors'
import { APPEND_HELD, COMMIT_FLAGS, COMMIT_LOCKED, COMMIT_SLEEPER, appendingFlag, backOff, backedOff, lockAppend, recoverAppend, tryLockAppend, unlockAppend, waitAppend } from '../../src/shared/append-mutex'
import { H_COMMITS, H_FOLLOWERS, MAX_THREADS } from '../../src/shared/layout'
import { SharedMemory } from '../../src/shared/memory'
import { waitWhileWorkerHolds } from './sleeping-holder'

/** The header and the thread slots (where each thread's flag lies). */
const control = (): Int32Array => new Int32Array(new SharedArrayBuffer((appendingFlag(MAX_THREADS - 1) + 1) * 4))
/** A count (the tail in 8-byte units, shifted past the mutex's bits). */
const COUNT = 40 << 2

afterEach(() => {
  vi.restoreAllMocks()
})

describe('lockAppend', () => {
  it("takes the word at the count it holds, sets the holder's own flag, and a release publishes the next count and clears it", () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    expect(lockAppend(i32, 4, 1000, COUNT)).toBe(COUNT)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
    expect([4, 5].map((slot) => i32[appendingFlag(slot)])).toEqual([1, 0])
    unlockAppend(i32, 4, COUNT + 4)
    expect(i32[H_COMMITS]).toBe(COUNT + 4)
    expect(i32[appendingFlag(4)]).toBe(0)
  })

  it("a release clears a sleeper's mark with the lock bit, in the swap that publishes", () => {
    const i32 = control()
    lockAppend(i32, 1, 1000, 0)
    Atomics.or(i32, H_COMMITS, COMMIT_SLEEPER)
    unlockAppend(i32, 1, COUNT)
    expect(i32[H_COMMITS]).toBe(COUNT)
  })

  it('takes a free word whatever count the caller guessed', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    for (const guess of [0, COUNT - 4, Number.NaN, -1]) {
      expect(lockAppend(i32, 2, 1000, guess)).toBe(COUNT)
      unlockAppend(i32, 2, COUNT)
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
    i32[appendingFlag(7)] = 1
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
      take: `Atomics.compareExchange(i32, ${H_COMMITS}, ${COUNT}, ${COUNT | COMMIT_LOCKED}); i32[${appendingFlag(7)}] = 1`,
      release: `const sleepers = Atomics.exchange(i32, ${H_COMMITS}, ${COUNT + 4}) & ${COMMIT_SLEEPER}
        i32[${appendingFlag(7)}] = 0
        if (sleepers) Atomics.notify(i32, ${H_COMMITS})`,
    }
    const marked = await waitWhileWorkerHolds(i32, holder, () => {
      expect(lockAppend(i32, 1, 60_000, COUNT)).toBe(COUNT + 4)
      expect(i32[H_COMMITS]).toBe((COUNT + 4) | COMMIT_LOCKED)
      expect(i32[appendingFlag(1)]).toBe(1)
    })
    expect(marked).toBe(COUNT | COMMIT_LOCKED | COMMIT_SLEEPER)
  })
})

describe('tryLockAppend', () => {
  it('takes a free word at whatever count was guessed, setting its own flag', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    expect(tryLockAppend(i32, 3, COUNT - 4)).toBe(COUNT)
    expect([i32[H_COMMITS], i32[appendingFlag(3)]]).toEqual([COUNT | COMMIT_LOCKED, 1])
  })

  it('answers at once, changing nothing, while another thread holds the word, marked by a sleeper or not', () => {
    const i32 = control()
    for (const held of [COUNT | COMMIT_LOCKED, COUNT | COMMIT_LOCKED | COMMIT_SLEEPER]) {
      i32[H_COMMITS] = held
      expect(tryLockAppend(i32, 3, COUNT)).toBe(APPEND_HELD)
      expect([i32[H_COMMITS], i32[appendingFlag(3)]]).toEqual([held, 0])
    }
  })

  it('never answers a count with its answer for a held word (counts have their flag bits clear)', () => {
    expect(APPEND_HELD & COMMIT_FLAGS).not.toBe(0)
  })
})

describe('waitAppend', () => {
  it('takes a free word, and refuses at once to wait for a mutex its own slot holds', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    expect(waitAppend(i32, 2, 1000)).toBe(COUNT)
    expect(() => waitAppend(i32, 2, 60_000)).toThrow(/already holds the shared log's append mutex/)
  })

  it('gives up at the timeout on a mutex never released', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT | COMMIT_LOCKED
    i32[appendingFlag(7)] = 1
    expect(() => waitAppend(i32, 1, 30)).toThrow(/Timed out after 30 ms waiting for the shared log's append mutex/)
  })
})

describe('backOff', () => {
  /** How many times pause number `pause` reads the clock, which moves 1 µs a read (a pause reads it once before its loop). */
  function clockReads(pause: number): number {
    let reads = 0
    vi.spyOn(performance, 'now').mockImplementation(() => ++reads / 1000)
    backOff(pause)
    vi.restoreAllMocks()
    return reads
  }

  it('pauses for a time read on the clock, each pause twice the one before', () => {
    for (let i = 0; i < 40; i++) backedOff(1)
    expect([0, 1, 2].map(clockReads)).toEqual([1 + 10, 1 + 20, 1 + 39])
  })

  it('makes its first pause shorter after takes at the first look, down to 0.3 µs', () => {
    for (let i = 0; i < 40; i++) backedOff(0)
    expect(clockReads(0)).toBe(1 + 1)
  })

  it("makes its first pause longer while the holder's bursts outlast it, up to 9.6 µs", () => {
    for (let i = 0; i < 40; i++) backedOff(0)
    const shortest = clockReads(0)
    for (let i = 0; i < 40; i++) backedOff(3)
    expect([shortest, clockReads(0)]).toEqual([1 + 1, 1 + 10])
  })
})

describe('unlockAppend', () => {
  it('wakes the word only when a sleeper marked it or a follower waits for commits', () => {
    const notify = vi.spyOn(Atomics, 'notify')
    const i32 = control()
    lockAppend(i32, 0, 1000, 0)
    unlockAppend(i32, 0, 4)
    expect(notify).not.toHaveBeenCalled()
    lockAppend(i32, 0, 1000, 4)
    Atomics.or(i32, H_COMMITS, COMMIT_SLEEPER)
    unlockAppend(i32, 0, 8)
    expect(notify).toHaveBeenCalledTimes(1)
    i32[H_FOLLOWERS] = 1
    lockAppend(i32, 0, 1000, 8)
    unlockAppend(i32, 0, 12)
    expect(notify).toHaveBeenCalledTimes(2)
    expect(notify).toHaveBeenCalledWith(i32, H_COMMITS)
    expect(i32[H_COMMITS]).toBe(12)
  })
})

describe('recoverAppend', () => {
  it("frees a dead slot's mutex, marked or not, keeping the count, and no other slot's", () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT | COMMIT_LOCKED
    i32[appendingFlag(5)] = 1
    expect(recoverAppend(i32, 4)).toBe(false)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
    expect(recoverAppend(i32, 5)).toBe(true)
    expect([i32[H_COMMITS], i32[appendingFlag(5)]]).toEqual([COUNT, 0])
    i32[H_COMMITS] = COUNT | COMMIT_LOCKED | COMMIT_SLEEPER
    i32[appendingFlag(5)] = 1
    expect(recoverAppend(i32, 5)).toBe(true)
    expect(i32[H_COMMITS]).toBe(COUNT)
  })

  it('frees a dead slot\'s mutex once: a second reaper of the same thread leaves the next holder alone', () => {
    const i32 = control()
    i32[H_COMMITS] = COUNT
    lockAppend(i32, 5, 1000, COUNT)
    expect(recoverAppend(i32, 5)).toBe(true)
    lockAppend(i32, 3, 1000, COUNT)
    expect(recoverAppend(i32, 5)).toBe(false)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
  })

  it('does not free a mutex a live thread took after the dead one let go', () => {
    const i32 = control()
    lockAppend(i32, 5, 1000, 0)
    unlockAppend(i32, 5, COUNT)
    lockAppend(i32, 3, 1000, COUNT)
    expect(recoverAppend(i32, 5)).toBe(false)
    expect(i32[H_COMMITS]).toBe(COUNT | COMMIT_LOCKED)
  })

  it("wakes the word's sleepers and followers even when the dead thread held nothing: it may have died before its release's notify", () => {
    const notify = vi.spyOn(Atomics, 'notify')
    const i32 = control()
    expect(recoverAppend(i32, 5)).toBe(false)
    expect(notify).toHaveBeenCalledWith(i32, H_COMMITS)
  })
})

describe('the commit word', () => {
  it("gives readers the published count, the mutex's bits masked, while a thread holds it", () => {
    const mem = SharedMemory.create(1 << 16)
    const count = mem.lockAppend(0, 1000, mem.commits)
    mem.commit(0, 64)
    mem.lockAppend(1, 1000, mem.commits)
    expect(Atomics.load(mem.i32, H_COMMITS) & COMMIT_FLAGS).toBe(COMMIT_LOCKED)
    expect(mem.commits).toBe((64 / 8) << 2)
    expect(mem.commits).not.toBe(count)
    expect(mem.tail).toBe(64)
  })
})
