// A single-record write that finds a long run of another thread's updates of other records
// appended since it was planned: it applies them a chunk at a time before the append mutex, and
// catches up (rather than copies) a run of more than a few KiB under it. Two replicas in this
// thread stand for two threads; the general path (the express update's own bound: express.test.ts).
import { describe, expect, it, vi } from 'vitest'
import { increment } from '../../src'
import { SharedLog } from '../../src/shared/log'
import { SharedMemory } from '../../src/shared/memory'
import { Replica } from '../../src/shared/replica'
import { setExpressUpdates } from '../../src/table/express'
import { twoReplicas } from './two-replicas'

const pair = () => {
  setExpressUpdates(false) // back on after each test (two-replicas.ts)
  return twoReplicas(
    [
      { id: 1, n: 0 },
      { id: 2, n: 0 },
    ],
    { logBytes: 1 << 20 },
  )
}

/** Runs `meanwhile` right before the next call of `method` of `proto` (the spy's first). */
function before<T extends object>(proto: T, method: keyof T & string, meanwhile: () => void): void {
  const real = proto[method] as (...args: unknown[]) => unknown
  ;(vi.spyOn(proto, method as never) as unknown as { mockImplementationOnce(f: (...args: unknown[]) => unknown): void }).mockImplementationOnce(function (this: unknown, ...args: unknown[]) {
    meanwhile()
    return real.apply(this, args)
  })
}

/** The most log bytes one read copied without a limit (a read with one copies a chunk at a time). */
function unboundedReads(): { largest: number } {
  const seen = { largest: 0 }
  const real = SharedLog.prototype.read
  vi.spyOn(SharedLog.prototype, 'read').mockImplementation(function (this: SharedLog, from: number, to: number, limit?: number) {
    if (limit === undefined) seen.largest = Math.max(seen.largest, to - from)
    return real.call(this, from, to, limit)
  })
  return seen
}

describe('a write planned beside a long run of another replica\'s updates', () => {
  it('applies them a chunk at a time before it takes the append mutex, and both replicas hold all', () => {
    const { t, o } = pair()
    // ~2,000 entries of ~48 bytes: three chunks.
    before(Replica.prototype, 'appendIf', () => {
      for (let i = 0; i < 2000; i++) o.update({ n: increment(1) }, { id: 2 })
    })
    const reads = unboundedReads()
    t.update({ n: increment(1) }, { id: 1 })
    expect(reads.largest).toBeLessThanOrEqual(1 << 12)
    expect([t.get(1)?.n, t.get(2)?.n, o.get(1)?.n, o.get(2)?.n]).toEqual([1, 2000, 1, 2000])
  })

  it('is merged into its record when an update of that record comes in a later chunk of the run', () => {
    const { t, o } = pair()
    before(Replica.prototype, 'appendIf', () => {
      for (let i = 0; i < 2000; i++) o.update({ n: increment(1) }, { id: 2 })
      o.update({ n: increment(10) }, { id: 1 })
    })
    t.update({ n: increment(1) }, { id: 1 })
    expect([t.get(1)?.n, t.get(2)?.n, o.get(1)?.n, o.get(2)?.n]).toEqual([11, 2000, 11, 2000])
  })

  it('catches up, copying no more than a few KiB at once, a run appended while it waited for the append mutex', () => {
    const { t, o } = pair()
    before(SharedMemory.prototype, 'tryLockAppend', () => {
      for (let i = 0; i < 200; i++) o.update({ n: increment(1) }, { id: 2 })
    })
    const reads = unboundedReads()
    t.update({ n: increment(1) }, { id: 1 })
    expect(reads.largest).toBeLessThanOrEqual(1 << 12)
    expect([t.get(1)?.n, t.get(2)?.n, o.get(1)?.n, o.get(2)?.n]).toEqual([1, 200, 1, 200])
  })
})
