// Per-thread express rings (src/shared/rings.ts, ring-seal.ts, ring-read.ts): an express update
// goes to its thread's ring; every holder of the append mutex seals the rings into the log first;
// reads see ring entries at once. Two replicas in this thread stand for two threads.
import { describe, expect, it, vi } from 'vitest'
import { LockTimeoutError, increment } from '../../src'
import { H_RINGS_MASK, R_SEALED, R_STAMP, R_TAIL } from '../../src/shared/layout'
import { SharedLog } from '../../src/shared/log'
import { SharedMemory } from '../../src/shared/memory'
import { reapThread } from '../../src/shared/reaper'
import { RingSide } from '../../src/shared/ring-side'
import { STAMP_MASK, WRITING, ringCtl, tailOf } from '../../src/shared/rings'
import { twoReplicas } from './two-replicas'

const rows = [1, 2, 3].map((id) => ({ id, n: 0 }))

function memoryOf(db: { handle(): { buffers: unknown } }): SharedMemory {
  return SharedMemory.open(db.handle().buffers)
}

/** The log's entries from its start: whether each is a seal. */
function seals(mem: SharedMemory): boolean[] {
  const log = new SharedLog(mem)
  const count = log.read(0, mem.tail)
  return Array.from({ length: count }, (_, i) => log.isSeal(i))
}

describe('an express update in a thread with a ring', () => {
  it('publishes the patch in its ring and leaves the log as it was', () => {
    const { db, t } = twoReplicas(rows)
    const mem = memoryOf(db)
    const tail = mem.tail
    t.update({ n: increment(1) }, { id: 1 })
    expect(mem.tail).toBe(tail)
    expect(tailOf(Atomics.load(mem.i32, ringCtl(0) + R_TAIL))).toBeGreaterThan(0)
    expect(t.get(1)?.n).toBe(1)
  })

  it('is seen by another replica\'s very next get (bare reads look at the rings\' tails)', () => {
    const { t, o } = twoReplicas(rows)
    for (let k = 0; k < 100; k++) o.get(2) // the bare-read path settled
    t.update({ n: increment(1) }, { id: 2 })
    expect(o.get(2)?.n).toBe(1)
  })

  it('is sealed into the log by the next append through the mutex, before that append\'s entry', () => {
    const { db, t, o } = twoReplicas(rows)
    const mem = memoryOf(db)
    t.update({ n: increment(1) }, { id: 1 })
    o.insert({ id: 9, n: 0 })
    const ring = ringCtl(0)
    expect(Atomics.load(mem.i32, ring + R_SEALED)).toBe(tailOf(Atomics.load(mem.i32, ring + R_TAIL)))
    expect(seals(mem).slice(-2)).toEqual([true, false])
    expect([t.get(1)?.n, o.get(1)?.n, t.get(9)?.n]).toEqual([1, 1, 0])
  })

  it('steps aside for a record whose claim is another thread\'s: two threads\' increments of one record all count', () => {
    const { t, o } = twoReplicas(rows)
    for (let k = 0; k < 50; k++) {
      t.update({ n: increment(1) }, { id: 3 })
      o.update({ n: increment(1) }, { id: 3 })
    }
    expect([t.get(3)?.n, o.get(3)?.n]).toEqual([100, 100])
  })

  it('steps aside when the log moved after its replica caught up (another thread\'s commit of the record comes first)', () => {
    const { db, t, o, other } = twoReplicas(rows)
    const real = RingSide.prototype.write
    vi.spyOn(RingSide.prototype, 'write').mockImplementationOnce(function (this: RingSide, ...args: Parameters<RingSide['write']>) {
      // Through the general path (a transaction): sealed and appended, the commit word moves.
      other.transaction(() => o.update({ n: increment(5) }, { id: 1 }))
      return real.apply(this, args)
    })
    t.update({ n: increment(1) }, { id: 1 })
    expect([t.get(1)?.n, o.get(1)?.n, db.getTable('t').get(1)?.n]).toEqual([6, 6, 6])
  })
})

describe('a replica applying another thread\'s ring entries', () => {
  it('first catches up with the log its writer planned on (here: the entry\'s table was created after this replica last caught up)', () => {
    const { db, t, o } = twoReplicas(rows)
    o.get(1)
    const mem = memoryOf(db)
    const old = mem.commits
    const x = db.createTable('x')
    x.insert({ id: 1, n: 0 })
    x.update({ n: increment(1) }, { id: 1 })
    // The reader's first read of the count with `Atomics` (its catch-up's: the bare-read check,
    // a ring being live, reads it plainly) comes from before the table's creation: it reads the
    // rings with the log behind their entries.
    const real = Object.getOwnPropertyDescriptor(SharedMemory.prototype, 'commits')?.get as () => number
    vi.spyOn(SharedMemory.prototype, 'commits', 'get').mockImplementationOnce(() => old).mockImplementation(function (this: SharedMemory) {
      return real.call(this)
    })
    expect(o.get(1)?.n).toBe(0)
    vi.restoreAllMocks()
    expect(t.get(1)?.n).toBe(0)
    expect(o.get(1)?.n).toBe(0)
  })
})

describe('db.stats() of a database with ring writes', () => {
  it('counts the ring entries not yet sealed in the slowest replica\'s lag', () => {
    const { db, t, o } = twoReplicas(rows)
    o.get(1)
    const before = db.stats().shared?.slowestReplicaLagBytes ?? -1
    t.update({ n: increment(1) }, { id: 1 })
    expect(db.stats().shared?.slowestReplicaLagBytes).toBeGreaterThan(before)
  })
})

describe('a holder of the append mutex', () => {
  it('waits for a ring writer\'s flag, up to the lock timeout', () => {
    const { db, o } = twoReplicas(rows, { lockTimeoutMs: 50 })
    const mem = memoryOf(db)
    Atomics.or(mem.i32, H_RINGS_MASK, 1 << 5)
    Atomics.or(mem.i32, ringCtl(5) + R_TAIL, WRITING)
    expect(() => o.insert({ id: 9, n: 0 })).toThrow(LockTimeoutError)
    Atomics.and(mem.i32, ringCtl(5) + R_TAIL, ~WRITING)
    o.insert({ id: 9, n: 0 })
    expect(db.getTable('t').get(9)?.n).toBe(0)
  })

  it('is not kept waiting by a dead thread\'s flag once the thread is reaped', () => {
    const { db, o } = twoReplicas(rows, { lockTimeoutMs: 50 })
    const mem = memoryOf(db)
    const slot = mem.attachThread(0)
    Atomics.or(mem.i32, H_RINGS_MASK, 1 << slot)
    Atomics.or(mem.i32, ringCtl(slot) + R_TAIL, WRITING)
    reapThread(mem, slot, 50)
    o.insert({ id: 9, n: 0 })
    expect(db.getTable('t').get(9)?.n).toBe(0)
  })
})

describe('a seal', () => {
  it('sets every ring\'s last stamp to the greatest, so that an idle ring\'s stamp (modulo 2^29) is never compared with ones far past it', () => {
    const { db, t, o } = twoReplicas(rows)
    const mem = memoryOf(db)
    t.update({ n: increment(1) }, { id: 1 })
    const stamp = mem.i32[ringCtl(0) + R_STAMP] as number
    // Ring 5, written long ago and idle since: its stamp 2^28 + 1000 behind looks ahead, modulo 2^29.
    Atomics.or(mem.i32, H_RINGS_MASK, 1 << 5)
    mem.i32[ringCtl(5) + R_STAMP] = (stamp - (2 ** 28 + 1000)) & STAMP_MASK
    o.insert({ id: 9, n: 0 })
    expect(mem.i32[ringCtl(5) + R_STAMP]).toBe(mem.i32[ringCtl(0) + R_STAMP])
  })
})

describe('a replica with commit listeners', () => {
  it('hears each ring commit of another thread once, in order (it seals them and reads them from the log)', () => {
    const { db, t, o } = twoReplicas(rows)
    const heard: number[] = []
    db.onCommit((commit) => {
      for (const op of commit.ops) if (op.type === 'record') heard.push(op.after?.n as number)
    })
    for (let k = 0; k < 3; k++) o.update({ n: increment(1) }, { id: 2 })
    expect(t.get(2)?.n).toBe(3)
    t.get(1)
    o.insert({ id: 9, n: 7 })
    expect(t.get(9)?.n).toBe(7)
    expect(heard).toEqual([1, 2, 3, 7])
  })
})

describe('a replica rebuilt from a snapshot taken after ring writes', () => {
  it('finds one when only ring writes wrapped the log (a writer\'s own seals publish the snapshot)', () => {
    const { db, t } = twoReplicas(rows, { logBytes: 1 << 16, lockTimeoutMs: 500 })
    for (let k = 0; k < 20000; k++) t.update({ n: increment(1) }, { id: 1 })
    const late = db.constructor as unknown as { attach(h: unknown): typeof db }
    const third = late.attach(db.handle())
    try {
      expect(third.getTable('t').get(1)?.n).toBe(20000)
    } finally {
      third.close()
    }
  })

  it('starts each ring where the snapshot left it: the ring entries it holds are not applied again from the ring', () => {
    const { db, t, o, other } = twoReplicas(rows, { logBytes: 1 << 16 })
    for (let k = 0; k < 100; k++) t.update({ n: increment(1) }, { id: 1 })
    // Through the log (which seals the ring first): a ring entry applied again would undo it.
    other.transaction(() => o.update({ n: 500 }, { id: 1 }))
    // Writes that wrap the small log; snapshots follow.
    for (let k = 0; k < 10000; k++) o.update({ n: k }, { id: 2 + (k % 2) })
    expect(memoryOf(db).head).toBeGreaterThan(0)
    const late = db.constructor as unknown as { attach(h: unknown): typeof db }
    const third = late.attach(db.handle())
    try {
      expect(third.getTable('t').get(1)?.n).toBe(500)
    } finally {
      third.close()
    }
  })

  it('applies none of the sealed ring entries twice', () => {
    const { db, t, o } = twoReplicas(rows, { logBytes: 1 << 16 })
    // Enough ring writes and appends to wrap the small log: snapshots are taken meanwhile.
    for (let k = 0; k < 3000; k++) {
      t.update({ n: increment(1) }, { id: 1 })
      if (k % 100 === 0) o.insert({ id: 100 + k, n: k })
    }
    expect(memoryOf(db).snapshotsTaken).toBeGreaterThan(0)
    const late = db.constructor as unknown as { attach(h: unknown): typeof db }
    const third = late.attach(db.handle())
    try {
      expect([third.getTable('t').get(1)?.n, o.get(1)?.n]).toEqual([3000, 3000])
    } finally {
      third.close()
    }
  })
})
