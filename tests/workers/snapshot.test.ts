// The snapshot a writer publishes when the ring drops entries is encoded outside the append
// mutex, so other threads' appends do not wait for a whole-database encode.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database } from 'dictdb'
import { SharedMemory } from '../../src/shared/memory'

/** Whether the append mutex was held as each snapshot encode began. */
const lockedAtEncode: boolean[] = []
let watched: SharedMemory | null = null

vi.mock('../../src/shared/codec', async (importOriginal) => {
  const codec = await importOriginal<typeof import('../../src/shared/codec')>()
  return {
    ...codec,
    encodeSnapshot: (...args: Parameters<typeof codec.encodeSnapshot>) => {
      if (watched !== null) lockedAtEncode.push(watched.appendLocked)
      return codec.encodeSnapshot(...args)
    },
  }
})

const opened: Database[] = []
afterEach(() => {
  for (const db of opened.splice(0)) db.close()
  watched = null
  lockedAtEncode.length = 0
})

describe('the shared snapshot', () => {
  it('is encoded after the append mutex was let go', () => {
    const db = new Database({ shared: true, logBytes: 1 << 16 })
    opened.push(db)
    watched = SharedMemory.open(db.handle().buffers)
    const t = db.createTable('t')
    for (let i = 0; i < 400; i++) t.insert({ pad: 'x'.repeat(400) }) // about three times the ring
    expect(lockedAtEncode.length).toBeGreaterThan(0)
    expect(lockedAtEncode.every((locked) => !locked)).toBe(true)
    expect(watched.snapshotsTaken).toBe(lockedAtEncode.length)
  })
})
