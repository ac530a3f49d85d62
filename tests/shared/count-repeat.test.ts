// The commit count is the log's tail in 8-byte units modulo 2^30: it repeats after 8 GiB of log.
// A thread idle across exactly that much would take its old state for current by the count
// alone; the ring overtook it meanwhile, so its stale flag is set, and every check for news
// looks at the flag too. (The test sets the flag as the reclaimer does, without the 8 GiB.)
import { describe, expect, it } from 'vitest'
import { SharedMemory } from '../../src/shared/memory'
import { type Database } from '../../src'
import { twoReplicas } from './two-replicas'

/**
 * Two replicas of a database on the smallest ring, wrapped a few times (so a snapshot stands, as
 * it does whenever the ring overtook a replica), the other replica caught up and settled.
 */
function wrapped() {
  const r = twoReplicas([{ id: 1, v: 1 }], { logBytes: 1 << 16 })
  for (let i = 0; i < 400; i++) r.t.insert({ pad: 'x'.repeat(400) })
  for (let i = 0; i < 3; i++) expect(r.o.get(1)).toEqual({ id: 1, v: 1 })
  return r
}

/** The other replica's slot (it attached second: the highest attached slot). */
function otherSlot(mem: SharedMemory): number {
  let slot = -1
  for (let s = 0; s < 64; s++) if (mem.isAttached(s)) slot = s
  return slot
}

/** Sets the other replica's stale flag, as the reclaimer does. */
function markOtherStale(db: Database): { mem: SharedMemory; slot: number } {
  const mem = SharedMemory.open(db.handle().buffers)
  const slot = otherSlot(mem)
  mem.setStale(slot, true)
  return { mem, slot }
}

describe('a replica marked stale while the commit count did not move', () => {
  it('rebuilds at its next bare get', () => {
    const { db, o } = wrapped()
    const { mem, slot } = markOtherStale(db)
    expect(o.get(1)).toEqual({ id: 1, v: 1 })
    expect(mem.isStale(slot)).toBe(false)
  })

  it('rebuilds before it plans a write', () => {
    const { db, o } = wrapped()
    o.update({ v: 2 }, { id: 1 })
    const { mem, slot } = markOtherStale(db)
    o.update({ v: 3 }, { id: 1 })
    expect(mem.isStale(slot)).toBe(false)
    expect(db.getTable('t').get(1)).toEqual({ id: 1, v: 3 })
  })

  it('rebuilds at the start of a transaction', () => {
    const { db, other, o } = wrapped()
    other.transaction(() => o.count())
    const { mem, slot } = markOtherStale(db)
    expect(other.transaction(() => o.count())).toBe(401)
    expect(mem.isStale(slot)).toBe(false)
  })

  it('rebuilds at a get whose table was last settled at another count (the look that reads the count with Atomics)', () => {
    const { db, o } = wrapped()
    // This replica's own write moves the count: the table's bare look no longer matches it, so
    // the next get asks the replica (quietRead), which finds itself at the count.
    o.update({ v: 2 }, { id: 1 })
    const { mem, slot } = markOtherStale(db)
    expect(o.get(1)).toEqual({ id: 1, v: 2 })
    expect(mem.isStale(slot)).toBe(false)
  })

  it('rebuilds at a select (a read that takes the lock and catches up)', () => {
    const { db, o } = wrapped()
    o.select({ where: { id: 1 } })
    const { mem, slot } = markOtherStale(db)
    expect(o.select({ where: { id: 1 } })).toEqual([{ id: 1, v: 1 }])
    expect(mem.isStale(slot)).toBe(false)
  })

  it("rebuilds at a change feed's catch-up, with no read in this thread", async () => {
    const { db, other } = wrapped()
    const feed = other.changes()[Symbol.asyncIterator]()
    const next = feed.next()
    const { mem, slot } = markOtherStale(db)
    // The feed's follower waits for the count to move, or one second, then catches up; the
    // rebuild skips commits, and the feed says so (it was not opened with onOverflow: 'reset').
    await expect(next).rejects.toMatchObject({ code: 'InvalidStateError', name: 'ChangeFeedOverflowError' })
    expect(mem.isStale(slot)).toBe(false)
  })
})
