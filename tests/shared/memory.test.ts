// The control block of a shared database: sizes that must not wrap, and the record of which
// thread started which (a worker dies with its parent, and is reaped with it).
import { describe, expect, it } from 'vitest'
import { SharedMemory } from '../../src/shared/memory'

describe('SharedMemory', () => {
  it('keeps a snapshot length past 2 GiB whole', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.snapshotLength = 2 ** 31 + 8
    expect(mem.snapshotLength).toBe(2 ** 31 + 8)
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

  it('a reaped child is no longer anyone\'s, not even the main thread\'s', () => {
    const mem = SharedMemory.create(1 << 16)
    mem.recordChild(9, 0)
    mem.forgetChild(9)
    expect(mem.childrenOf(0)).toEqual([])
  })
})
