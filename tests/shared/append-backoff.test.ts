// A writer of one record that finds the shared log's append mutex held backs off (see
// BACKOFF_PAUSES in src/shared/append-mutex.ts) and, in its pauses, applies the entries the holder
// published, then takes the mutex; after its last pause it waits as every taker does, within its
// lock timeout. Two replicas in this thread stand for two threads: the other replica's appends
// run where this one finds the mutex held (a spy on `SharedMemory.tryLockAppend`).
import { describe, expect, it, vi } from 'vitest'
import { increment } from '../../src'
import { APPEND_HELD, BACKOFF_PAUSES } from '../../src/shared/append-mutex'
import { SharedMemory } from '../../src/shared/memory'
import { setExpressUpdates } from '../../src/table/express'
import { twoReplicas } from './two-replicas'

const pair = () =>
  twoReplicas([
    { id: 1, n: 0 },
    { id: 2, n: 0 },
  ])

/**
 * Makes the next `held` tries of the append mutex (`tryLockAppend`) find it held, running
 * `meanwhile(k)` first (k = 0, 1, …: the other replica's appends while "it holds it"). Records,
 * at each try, the log position the trying replica has applied (read without catching up).
 */
function heldFor(held: number, meanwhile: (k: number) => void, seen: number[]) {
  const real = SharedMemory.prototype.tryLockAppend
  let k = 0
  const spy = vi.spyOn(SharedMemory.prototype, 'tryLockAppend')
  spy.mockImplementation(function (this: SharedMemory, slot: number, guess: number) {
    seen.push(this.applied(slot))
    if (k >= held) return real.call(this, slot, guess)
    // Restored for the other replica's own appends, then mocked again.
    spy.mockRestore()
    meanwhile(k++)
    heldFor(held - k, meanwhile, seen)
    return APPEND_HELD
  })
  return spy
}

describe('a writer of one record that finds the append mutex held', () => {
  it.each([
    ['express', true],
    ['general', false],
  ] as const)('applies the entries published meanwhile before it takes the mutex, and appends after them (%s path)', (_, express) => {
    setExpressUpdates(express) // back on after each test (two-replicas.ts)
    const { t, o } = pair()
    const seen: number[] = []
    heldFor(1, () => o.update({ n: increment(1) }, { id: 2 }), seen)
    t.update({ n: increment(1) }, { id: 1 })
    // The first try found it held, the other's entry published meanwhile; the next found it applied.
    expect(seen).toHaveLength(2)
    expect(seen[1]).toBeGreaterThan(seen[0] as number)
    expect([t.get(1)?.n, t.get(2)?.n, o.get(1)?.n, o.get(2)?.n]).toEqual([1, 1, 1, 1])
  })

  it('still takes the mutex after its last pause, waiting as every taker does, and loses no update of either replica', () => {
    const { t, o } = pair()
    const seen: number[] = []
    const wait = vi.spyOn(SharedMemory.prototype, 'waitAppend')
    // Held at the first try and at the try after each pause: the writer then waits for it.
    heldFor(1 + BACKOFF_PAUSES, () => o.update({ n: increment(1) }, { id: 2 }), seen)
    t.update({ n: increment(1) }, { id: 1 })
    expect(wait).toHaveBeenCalledTimes(1)
    // One try per pause after the first, each with the entry published before it applied.
    expect(seen).toHaveLength(1 + BACKOFF_PAUSES)
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number)
    expect([t.get(1)?.n, t.get(2)?.n, o.get(1)?.n, o.get(2)?.n]).toEqual([1, 1 + BACKOFF_PAUSES, 1, 1 + BACKOFF_PAUSES])
  })

  it('leaves an entry of its own record published meanwhile to the append, and both increments count', () => {
    const { t, o } = pair()
    const seen: number[] = []
    heldFor(1, () => o.update({ n: increment(1) }, { id: 1 }), seen)
    t.update({ n: increment(1) }, { id: 1 })
    // Not applied in the pause (the update's plan would be stale): planned again after the append's look.
    expect(seen[1]).toBe(seen[0])
    expect([t.get(1)?.n, o.get(1)?.n]).toEqual([2, 2])
  })
})
