// Reading other threads' rings (src/shared/ring-read.ts): a copy that the ring's writer overtook
// is discarded by the second read of the ring's tail, whatever the headers it copied said.
import { describe, expect, it, vi } from 'vitest'
import { H_RINGS_MASK, RING_UNITS, R_TAIL } from '../../src/shared/layout'
import { SharedMemory } from '../../src/shared/memory'
import { applyPublished } from '../../src/shared/ring-read'
import { Rings, ringBase, ringCtl } from '../../src/shared/rings'

const realLoad = Atomics.load as (array: Int32Array, index: number) => number

describe('applyPublished', () => {
  it('discards, without throwing or looping, a copy whose entry header was overwritten with a length of 2^31 or more', () => {
    for (const torn of [0x80000000, 0xfffffff8, 0xfffffff0]) {
      const mem = SharedMemory.create(1 << 16)
      const rings = new Rings(mem, 1)
      Atomics.store(mem.i32, H_RINGS_MASK, 1)
      // Ring 0 published 4 units; its first header was overwritten: the writer has gone round
      // the ring since, which the second read of its tail shows.
      new DataView(mem.buffers.control).setUint32(ringBase(0), torn, true)
      const tailWord = ringCtl(0) + R_TAIL
      let reads = 0
      const load = (array: Int32Array, index: number): number => {
        if (array === mem.i32 && index === tailWord) return (reads++ === 0 ? 4 : RING_UNITS + 4) << 1
        return realLoad(array, index)
      }
      const apply = vi.fn(() => true)
      ;(Atomics as { load: unknown }).load = load
      try {
        expect(applyPublished(rings, apply, () => true), `length ${torn}`).toBe(false)
      } finally {
        ;(Atomics as { load: unknown }).load = realLoad
      }
      expect(apply).not.toHaveBeenCalled()
    }
  })
})
