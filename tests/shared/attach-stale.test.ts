// A thread attaching to a shared database rebuilds from the snapshot: it clears its stale flag,
// decodes the snapshot, then catches up from the snapshot's position. Until that position is
// published, its slot stands at 0, so a writer that reclaims ring space meanwhile marks it
// stale. The catch-up after the decode reads the flag even when the commit count did not move
// (the count repeats after 8 GiB of log), and the joiner rebuilds again. These tests put a
// writer, or the reclaimer's mark alone, inside the joiner's first decode.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database } from '../../src'
import { SharedMemory } from '../../src/shared/memory'

/** Called before each snapshot decode in this thread (the joiner's), with the decode's number. */
let onDecode: ((n: number) => void) | null = null
let decodes = 0

vi.mock('../../src/shared/codec', async (importOriginal) => {
  const codec = await importOriginal<typeof import('../../src/shared/codec')>()
  return {
    ...codec,
    decodeSnapshot: (...args: Parameters<typeof codec.decodeSnapshot>) => {
      onDecode?.(++decodes)
      return codec.decodeSnapshot(...args)
    },
  }
})

const opened: Database[] = []
afterEach(() => {
  onDecode = null
  decodes = 0
  for (const db of opened.splice(0)) db.close()
})

/** A shared database on the smallest ring, wrapped a few times (so a snapshot stands). */
function wrappedDatabase() {
  const db = new Database({ shared: true, logBytes: 1 << 16 })
  opened.push(db)
  const t = db.createTable('t')
  t.insert({ id: 1, v: 1 })
  for (let i = 0; i < 400; i++) t.insert({ id: 100 + i, pad: 'x'.repeat(400) })
  const mem = SharedMemory.open(db.handle().buffers)
  expect(mem.snapshotsTaken).toBeGreaterThan(0)
  return { db, t, mem }
}

/** The slot that attached last (the joiner's, during its first decode). */
function lastSlot(mem: SharedMemory): number {
  let slot = -1
  for (let s = 0; s < 64; s++) if (mem.isAttached(s)) slot = s
  return slot
}

function attach(db: Database): Database {
  const other = Database.attach(db.handle())
  opened.push(other)
  return other
}

describe('a thread whose replica is marked stale while Database.attach rebuilds it', () => {
  it('rebuilds again and holds every commit, when a writer wraps the ring during its first decode', () => {
    const { db, t, mem } = wrappedDatabase()
    let joiner = -1
    let staleAfterWrites = false
    onDecode = (n) => {
      if (n !== 1) return
      joiner = lastSlot(mem)
      // About three times the ring, from the creating database, while the joiner decodes.
      for (let i = 0; i < 400; i++) t.update({ pad: `y${i}`.repeat(100) }, { id: 100 + i })
      t.update({ v: 2 }, { id: 1 })
      staleAfterWrites = mem.isStale(joiner)
    }
    const o = attach(db).getTable('t')
    expect(staleAfterWrites).toBe(true)
    expect(decodes).toBe(2)
    expect(mem.isStale(joiner)).toBe(false)
    expect(o.get(1)).toEqual({ id: 1, v: 2 })
    expect(o.select({ orderBy: 'id' })).toEqual(t.select({ orderBy: 'id' }))
  })

  it('rebuilds again when it was marked stale during its first decode with the commit count unchanged', () => {
    const { db, mem } = wrappedDatabase()
    let joiner = -1
    const count = mem.commits
    onDecode = (n) => {
      if (n !== 1) return
      joiner = lastSlot(mem)
      // As the reclaimer marks a replica the ring overtook (without the 8 GiB of log that would
      // bring the count back to this value).
      mem.setStale(joiner, true)
    }
    const o = attach(db).getTable('t')
    expect(mem.commits).toBe(count)
    expect(decodes).toBe(2)
    expect(mem.isStale(joiner)).toBe(false)
    expect(o.get(1)).toEqual({ id: 1, v: 1 })
  })
})
