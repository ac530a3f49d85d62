// The spin guards of shared memory (src/shared/guard.ts): the append mutex, the snapshot mutex and
// each lock's guard word. A waiter spins briefly, then marks the word and sleeps; the release wakes
// sleepers only when the word is marked; a dead holder's guard is recovered; no wait is unbounded.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LockTimeoutError } from '../../src/errors'
import { GUARD_SLEEPER, guardLock, guardRecover, guardUnlock } from '../../src/shared/guard'
import { waitWhileWorkerHolds } from './sleeping-holder'

const word = (): Int32Array => new Int32Array(new SharedArrayBuffer(16))

afterEach(() => {
  vi.restoreAllMocks()
})

describe('guardLock', () => {
  it('takes a free guard as the slot + 1 and leaves it free after the release', () => {
    const i32 = word()
    guardLock(i32, 1, 4, 1000, 'the guard')
    expect(i32[1]).toBe(5)
    guardUnlock(i32, 1)
    expect(i32[1]).toBe(0)
  })

  it('refuses at once to wait for a guard its own slot holds, marked by a sleeper or not', () => {
    const i32 = word()
    i32[0] = 3
    expect(() => guardLock(i32, 0, 2, 60_000, 'the guard')).toThrow(LockTimeoutError)
    i32[0] = 3 | GUARD_SLEEPER
    expect(() => guardLock(i32, 0, 2, 60_000, 'the guard')).toThrow(/already holds the guard/)
  })

  it('gives up at the timeout on a guard that is never released, having marked the word to sleep on it', () => {
    const i32 = word()
    i32[0] = 8 // held by slot 7, which never lets go
    expect(() => guardLock(i32, 0, 1, 30, 'the guard')).toThrow(/Timed out after 30 ms waiting for the guard/)
    expect(i32[0]).toBe(8 | GUARD_SLEEPER)
  })

  it('takes the guard once another thread releases it, sleeping marked meanwhile', async () => {
    const i32 = word()
    // The holder takes the guard as slot 7, then releases it as guardUnlock does.
    const holder = {
      index: 0,
      held: 8,
      take: 'Atomics.compareExchange(i32, 0, 0, 8)',
      release: `if (Atomics.exchange(i32, 0, 0) >= ${GUARD_SLEEPER}) Atomics.notify(i32, 0)`,
    }
    const marked = await waitWhileWorkerHolds(i32, holder, () => {
      guardLock(i32, 0, 1, 60_000, 'the guard')
      expect(i32[0]).toBe(2)
    })
    expect(marked).toBe(8 | GUARD_SLEEPER)
  })
})

describe('guardUnlock', () => {
  it('wakes sleepers only when one marked the word', () => {
    const notify = vi.spyOn(Atomics, 'notify')
    const i32 = word()
    i32[2] = 4
    guardUnlock(i32, 2)
    expect(notify).not.toHaveBeenCalled()
    i32[2] = 4 | GUARD_SLEEPER
    guardUnlock(i32, 2)
    expect(notify).toHaveBeenCalledWith(i32, 2)
    expect(i32[2]).toBe(0)
  })
})

describe('guardRecover', () => {
  it("frees a dead slot's guard, marked or not, and no other slot's", () => {
    const i32 = word()
    i32[0] = 6
    expect(guardRecover(i32, 0, 4)).toBe(false)
    expect(guardRecover(i32, 0, 5)).toBe(true)
    expect(i32[0]).toBe(0)
    i32[0] = 6 | GUARD_SLEEPER
    expect(guardRecover(i32, 0, 5)).toBe(true)
    expect(i32[0]).toBe(0)
  })
})
