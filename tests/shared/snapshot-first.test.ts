// A commit whose append frees ring space past the last snapshot and overtakes every other
// attached replica publishes the snapshot before it moves the ring's head (a writer terminated in
// between would otherwise leave the commits since the last snapshot in no live thread:
// tests/workers/reclaim-termination.test.ts). The appends of ops already applied in the writer's
// replica (transactions, change sets of several records, catalog changes) hold a state past the
// log's tail there: they are taken out, the snapshot of the state before them is published, and
// they are committed again (`SnapshotFirst`). Replicas in this thread stand for threads: `idle`
// is overtaken, `o` writes.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, DictDBError, InvalidStateError, increment } from '../../src'
import { SharedMemory } from '../../src/shared/memory'
import { SnapshotWriter } from '../../src/shared/snapshot'
import { setExpressUpdates } from '../../src/table/express'

const logBytes = 1 << 16
const open: Database[] = []
afterEach(() => {
  vi.restoreAllMocks()
  setExpressUpdates(true)
  for (const db of open.splice(0)) db.close()
})

/** `idle` (never reads again: overtaken), `o` attached to it, tables `a` ({ id: 1, v: 0 }) and `b`. */
function pair() {
  const idle = new Database({ logBytes, shared: true })
  idle.createTable('a').insert({ id: 1, v: 0 })
  idle.createTable('b')
  const o = Database.attach(idle.handle())
  open.push(o, idle)
  const mem = SharedMemory.open(idle.handle().buffers)
  return { idle, o, mem, room: () => logBytes - (mem.tail % logBytes) }
}

function attached(db: Database): Database {
  const fresh = Database.attach(db.handle())
  open.unshift(fresh)
  return fresh
}

/** Makes every snapshot encode fail, as an allocation that runs out of memory does. */
function failingEncodes(): void {
  vi.spyOn(SnapshotWriter.prototype, 'write').mockImplementation(() => {
    throw new RangeError('Array buffer allocation failed')
  })
}

describe('a commit of ops applied in the writer\'s replica whose append overtakes every other replica', () => {
  it('runs a transaction again after publishing the snapshot of the state before it, and commits it once', () => {
    const { idle, o, mem } = pair()
    const a = o.getTable('a')
    const b = o.getTable('b')
    let heard = 0
    o.onCommit(() => heard++)
    let runs = 0
    let commits = 0
    while (mem.head === 0) {
      o.transaction(() => {
        runs++
        a.update({ v: increment(1) }, { id: 1 })
        b.insert({ n: commits })
      })
      commits++
    }
    // The one whose append moved the head ran twice: rolled back, the snapshot, run again.
    expect(runs).toBe(commits + 1)
    expect(heard).toBe(commits)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    expect(mem.snapshotPos).toBeLessThan(mem.tail) // before its entry
    expect(a.get(1)).toEqual({ id: 1, v: commits })
    expect(b.select({ orderBy: 'id' }).map((r) => r.id)).toEqual(Array.from({ length: commits }, (_, i) => i + 1))
    for (const db of [idle, attached(idle)]) {
      expect(db.getTable('a').get(1)).toEqual({ id: 1, v: commits })
      expect(db.getTable('b').count()).toBe(commits)
    }
  })

  it('commits an insert of several records once, with the auto keys it had', () => {
    const { idle, o, mem } = pair()
    const b = o.getTable('b')
    let keys: unknown[] = []
    while (mem.head === 0) keys = keys.concat(b.insert([{ n: 1 }, { n: 2 }]))
    expect(keys).toEqual(Array.from({ length: keys.length }, (_, i) => i + 1))
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    expect(mem.snapshotPos).toBeLessThan(mem.tail)
    for (const db of [o, idle, attached(idle)]) expect(db.getTable('b').count()).toBe(keys.length)
    expect(b.insert({ n: 3 })).toBe(keys.length + 1)
  })

  it('creates a table once when its creation is that commit, and the table object returned works', () => {
    const { idle, o, mem, room } = pair()
    const a = o.getTable('a')
    while (room() > 60) a.update({ v: increment(1) }, { id: 1 })
    expect(mem.head).toBe(0)
    const c = o.createTable('c', { indexes: [{ field: 'x', unique: true }] })
    expect(mem.head).toBeGreaterThan(0)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    expect(mem.snapshotPos).toBeLessThan(mem.tail)
    c.insert({ x: 1 })
    expect(() => c.insert({ x: 1 })).toThrow(DictDBError)
    for (const db of [o, idle, attached(idle)]) {
      expect(db.listTables()).toEqual(['a', 'b', 'c'])
      expect(db.getTable('c').get(1)).toEqual({ id: 1, x: 1 })
    }
  })
})

describe('the snapshot a reclaim must publish first, failing (an encode out of memory)', () => {
  it('fails the transaction with a DictDBError and leaves the database as it was, every thread usable', () => {
    const { idle, o, mem } = pair()
    const a = o.getTable('a')
    const b = o.getTable('b')
    failingEncodes()
    const tx = () => o.transaction(() => (a.update({ v: increment(1) }, { id: 1 }), b.insert({ n: 0 })))
    let commits = 0
    let failure: unknown
    while (failure === undefined && mem.head === 0) {
      try {
        tx()
        commits++
      } catch (error) {
        failure = error
      }
    }
    expect(failure).toBeInstanceOf(InvalidStateError)
    expect((failure as Error).cause).toBeInstanceOf(RangeError)
    expect(mem.head).toBe(0)
    expect(a.get(1)).toEqual({ id: 1, v: commits })
    expect(b.count()).toBe(commits)
    expect(idle.getTable('a').get(1)).toEqual({ id: 1, v: commits })
    expect(idle.getTable('b').count()).toBe(commits)
    vi.restoreAllMocks()
    tx()
    expect(mem.head).toBeGreaterThan(0)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    for (const db of [o, idle, attached(idle)]) expect(db.getTable('a').get(1)).toEqual({ id: 1, v: commits + 1 })
  })

  it.each([
    ['the express path', true],
    ['the general path', false],
  ])('fails an update by key with a DictDBError and leaves the record as it was, every thread usable (%s)', (_, express) => {
    setExpressUpdates(express)
    const { idle, o, mem } = pair()
    const a = o.getTable('a')
    failingEncodes()
    let v = 0
    let failure: unknown
    while (failure === undefined && mem.head === 0) {
      try {
        a.update({ v: v + 1 }, { id: 1 })
        v++
      } catch (error) {
        failure = error
      }
    }
    expect(failure).toBeInstanceOf(InvalidStateError)
    expect((failure as Error).cause).toBeInstanceOf(RangeError)
    expect(mem.head).toBe(0)
    expect(a.get(1)).toEqual({ id: 1, v })
    expect(idle.getTable('a').get(1)).toEqual({ id: 1, v })
    vi.restoreAllMocks()
    a.update({ v: v + 1 }, { id: 1 })
    expect(mem.head).toBeGreaterThan(0)
    for (const db of [o, idle, attached(idle)]) expect(db.getTable('a').get(1)).toEqual({ id: 1, v: v + 1 })
  })
})
