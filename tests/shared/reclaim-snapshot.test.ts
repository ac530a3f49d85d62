// A writer whose reclaim overtakes every other attached replica publishes the snapshot at the
// log's tail before it moves the ring's head (append mutex held), so that the commits past the
// last snapshot are never in its replica only (a writer terminated right after its store of the
// head: tests/workers/reclaim-termination.test.ts). Entries it deferred under the mutex (another
// thread's patches of other records, `#deferBeside`) are in that snapshot. Replicas in this
// thread stand for threads.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, increment } from '../../src'
import { SharedMemory } from '../../src/shared/memory'
import { setExpressUpdates } from '../../src/table/express'

const logBytes = 1 << 16
const open: Database[] = []
afterEach(() => {
  vi.restoreAllMocks()
  setExpressUpdates(true)
  for (const db of open.splice(0)) db.close()
})

describe('a reclaim that overtakes every other attached replica', () => {
  it('publishes a snapshot at the tail, with the entries its writer deferred under the append mutex applied', () => {
    setExpressUpdates(false) // the general path defers entries appended while it took the mutex
    // `idle` stays behind (the replica overtaken); `w` fills the ring and goes; `o` reclaims.
    const idle = new Database({ logBytes, shared: true })
    idle.createTable('t').insert([
      { id: 1, n: 0 },
      { id: 2, s: '' },
    ])
    const w = Database.attach(idle.handle())
    const o = Database.attach(idle.handle())
    open.push(o, idle)
    const mem = SharedMemory.open(idle.handle().buffers)
    const room = () => logBytes - (mem.tail % logBytes)
    let n = 0
    o.getTable('t').get(1) // caught up now: the run below is appended beside its write
    while (room() > 2000) w.getTable('t').update({ n: increment(1) }, { id: 1 }), n++
    // Right before `o` takes the append mutex: `w` appends updates of record 1 up to the ring's
    // end (none reclaims: each fits), then detaches. `o` defers them (patches of another record).
    const real = SharedMemory.prototype.tryLockAppend
    vi.spyOn(SharedMemory.prototype, 'tryLockAppend').mockImplementationOnce(function (this: SharedMemory, ...args: Parameters<SharedMemory['tryLockAppend']>) {
      while (room() > 100) w.getTable('t').update({ n: increment(1) }, { id: 1 }), n++
      w.close()
      return real.apply(this, args)
    })
    expect(mem.head).toBe(0)
    const snapshotBefore = mem.snapshotPos
    // Does not fit before the ring's end: skips to its start and reclaims.
    o.getTable('t').update({ s: 'x'.repeat(300) }, { id: 2 })
    expect(mem.head).toBeGreaterThan(0)
    expect(mem.applied(0)).toBeLessThan(mem.head)
    expect(mem.snapshotPos).toBeGreaterThan(snapshotBefore)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    expect(mem.snapshotPos).toBeLessThan(mem.tail) // taken before `o`'s entry
    // A thread that attaches now loads that snapshot and reads `o`'s entry past it.
    const fresh = Database.attach(idle.handle())
    open.unshift(fresh)
    expect(fresh.getTable('t').get(1)).toEqual({ id: 1, n })
    expect(fresh.getTable('t').get(2)).toEqual({ id: 2, s: 'x'.repeat(300) })
    expect(idle.getTable('t').get(1)).toEqual({ id: 1, n })
    expect(o.getTable('t').get(1)).toEqual({ id: 1, n })
  })
})
