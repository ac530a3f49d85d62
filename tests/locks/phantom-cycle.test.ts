// Deadlock detection reads the wait-for graph word by word while other threads move on, so it can
// see a cycle that never existed at one instant (a holder that released a lock and started a new
// wait between two reads). A cycle is reported only when it is still there a poll later.
// Here the "other thread" is a slot whose words the test writes itself, at chosen moments.
import { describe, expect, it } from 'vitest'
import { DeadlockError } from 'dictdb'
import { SharedRWLock } from '../../src/locks/shared-lock'
import { SharedMemory } from '../../src/shared/memory'
import { L_VERSION, L_WRITER } from '../../src/shared/layout'

function setup() {
  const memory = SharedMemory.create(1 << 16)
  const other = memory.attachThread(0) // slot 0: a thread played by the test
  const me = memory.attachThread(0) // slot 1: its waiter id is above the other's, so it is the one to back off
  const lock = (name: string) => {
    const lockSlot = memory.allocateLock()
    return { slot: lockSlot, lock: new SharedRWLock({ name, timeoutMs: 5000, memory, lockSlot, threadSlot: me }) }
  }
  const a = lock('a')
  const b = lock('b')
  // The other thread writes `a` and waits (synchronously) for `b`, which this thread will hold.
  const i32 = memory.i32
  Atomics.store(i32, memory.lock(a.slot) + L_WRITER, other + 1)
  memory.setWaitingFor(other, b.slot)
  /** Lets the other thread go as soon as this thread's async wait is published (and checked once). */
  const releaseOnceWaiting = () => {
    const poll = () => (Atomics.load(i32, memory.record(me, 0)) >= 0 ? releaseOther() : setImmediate(poll))
    setImmediate(poll)
  }
  const releaseOther = () => {
    memory.setWaitingFor(other, -1)
    Atomics.store(i32, memory.lock(a.slot) + L_WRITER, 0)
    Atomics.add(i32, memory.lock(a.slot) + L_VERSION, 1)
    Atomics.notify(i32, memory.lock(a.slot) + L_VERSION)
  }
  return { a: a.lock, b: b.lock, releaseOther, releaseOnceWaiting }
}

describe('deadlock detection across threads', () => {
  it('does not report a cycle that is gone before the next poll', async () => {
    const { a, b, releaseOnceWaiting } = setup()
    releaseOnceWaiting()
    const result = await b.write(() => a.write(() => 'granted'))
    expect(result).toBe('granted')
  })

  it('reports a cycle that lasts', async () => {
    const { a, b, releaseOther } = setup()
    await expect(b.write(() => a.write(() => 'granted'))).rejects.toThrow(DeadlockError)
    releaseOther()
  })
})
