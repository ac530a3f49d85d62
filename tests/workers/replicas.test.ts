// Replicas: a worker whose replica is overtaken by the shared log rebuilds from the snapshot and
// reads exactly what the main thread reads; transactions caught by it are retried, never torn.
import { threadId } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidStateError, increment } from 'dictdb'
import { Workers, memoryOf, sharedInts } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

// The smallest log: a few hundred commits wrap it.
const LOG_BYTES = 65536

/** True once the ring overtook some attached replica (it is marked stale and must rebuild). */
function someReplicaIsStale(db: ReturnType<Workers['database']>): boolean {
  const mem = memoryOf(db)
  return Array.from({ length: 64 }, (_, s) => mem.isAttached(s) && mem.isStale(s)).some(Boolean)
}

describe('a replica overtaken by the shared log', () => {
  it('a worker stuck in a busy loop reads the same state as the main thread afterwards', async () => {
    const db = workers.database({ logBytes: LOG_BYTES })
    const a = db.createTable('a', { indexes: [{ field: 'g', type: 'hash' }] })
    a.insert({ id: 1, v: 0 })
    db.createTable('gone').insert({ id: 1 })
    db.createTable('again').insert({ id: 1, version: 1 })
    const flags = sharedInts(1)
    const worker = workers.spawn('stale', { db: db.handle(), mode: 'read', flags })
    await worker.next('busy')

    for (let i = 0; i < 3000; i++) {
      a.update({ v: increment(1) }, { id: 1 })
      a.insert({ g: i % 7, h: i, pad: 'x'.repeat(40) })
      if (i === 1000) db.createTable('late').insert({ id: 'k', ok: true })
      if (i === 1500) a.createIndex('h', { type: 'sorted' })
      if (i === 2000) db.dropTable('gone')
      if (i === 2200) {
        db.dropTable('again')
        db.createTable('again').insert({ id: 1, version: 2 })
      }
      if (i === 2500) a.dropIndex('g')
    }
    expect(memoryOf(db).head).toBeGreaterThan(0) // the ring wrapped...
    expect(someReplicaIsStale(db)).toBe(true) // ...past the stuck worker
    Atomics.store(flags, 0, 1)
    const seen = await worker.result

    expect(seen).toEqual({
      oldAgain: { name: 'TableNotFoundError', code: 'TableNotFoundError', message: 'Table `again` was dropped' },
      again: [{ id: 1, version: 2 }],
      v: 3000,
      count: a.count(),
      g3: a.count({ g: 3 }),
      gPlan: 'scan',
      h: a.select({ where: a.field('h').between(10, 12), orderBy: 'h', columns: ['h'] }),
      hPlan: 'index',
      indexes: a.indexedFields(),
      tables: db.listTables(),
      late: { id: 'k', ok: true },
    })
    expect(seen.count).toBe(3001)
    expect(seen.g3).toBe(Math.ceil((3000 - 3) / 7))
    expect(seen.tables).toEqual(['a', 'late', 'again'])
    expect(seen.indexes).toEqual(['h'])
    // Its write, made through a table object taken before the rebuild, lands once.
    expect(a.get(1)?.v).toBe(4000)
  })

  it('a transaction overtaken while it holds changes is retried from the start and applied once', async () => {
    const { x, y, result } = await overtakeTransaction('txTouch')
    expect(result.runs).toBe(2)
    expect(result.x).toEqual({ id: 1, v: 1 })
    expect(result.y?.v).toBe(2001)
    expect(x.get(1)?.v).toBe(1)
    expect(y.get(1)?.v).toBe(2001)
  })

  it('a replica overtaken while its published position claims it is current still finds out, and its transaction is retried', async () => {
    // The position a replica publishes is only a hint to the thread that frees ring space: here it
    // says "at the tail", so the replica is never marked stale, and must see the overtaking itself.
    const { x, y, result } = await overtakeTransaction('txTouch', true)
    expect(result.runs).toBe(2)
    expect(result.y?.v).toBe(2001)
    expect(x.get(1)?.v).toBe(1)
    expect(y.get(1)?.v).toBe(2001)
  })

  it('a transaction overtaken before its commit re-applies its own changes on the rebuilt replica', async () => {
    const { x, y, result } = await overtakeTransaction('txAppend')
    expect(result).toEqual({ runs: 1, x: { id: 1, v: 1 }, y: y.get(1) })
    expect(x.get(1)?.v).toBe(1)
    expect(y.get(1)?.v).toBe(2000)
  })

  it('a commit too large for the log is refused with a clear error and leaves no thread changed', async () => {
    const db = workers.database({ logBytes: LOG_BYTES })
    const t = db.createTable('t')
    t.insert({ id: 0 })
    const big = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, pad: 'x'.repeat(100) }))
    expect(() => t.insert(big)).toThrow(/larger `logBytes`/)
    expect(() => db.transaction(() => big.forEach((r) => t.insert(r)))).toThrow(InvalidStateError)
    expect(t.count()).toBe(1)
    expect(await workers.spawn('read-state', { db: db.handle() }).result).toEqual({ t: { records: [{ id: 0 }], indexes: [] } })
    // And the database goes on; the refused records' keys were never taken.
    expect(t.insert({ ok: true })).toBe(1)
    expect(await workers.spawn('read-state', { db: db.handle() }).result).toEqual({ t: { records: [{ id: 0 }, { id: 1, ok: true }], indexes: [] } })
  })
})

/**
 * A worker in the `stale` fixture starts a transaction on `x` and `y` (mode `txTouch`: overtaken
 * while it holds changes; `txAppend`: overtaken just before its commit) and gets stuck while this
 * thread writes enough to `y` to overtake its replica in the small log; then lets it go on.
 */
async function overtakeTransaction(mode: 'txTouch' | 'txAppend', hidden = false) {
  const db = workers.database({ logBytes: LOG_BYTES })
  const x = db.createTable('x')
  x.insert({ id: 1, v: 0 })
  const y = db.createTable('y')
  y.insert({ id: 1, v: 0 })
  const flags = sharedInts(1)
  const worker = workers.spawn('stale', { db: db.handle(), mode, flags })
  await worker.next('busy')
  const mem = memoryOf(db)
  for (let i = 0; i < 2000; i++) {
    // `hidden`: the worker's published position is overwritten with one past any tail.
    if (hidden) for (let s = 0; s < 64; s++) if (mem.isAttached(s) && mem.threadIdOf(s) !== threadId) mem.setApplied(s, 2 ** 52)
    y.update({ v: increment(1), pad: `${i}`.repeat(20) }, { id: 1 })
  }
  expect(someReplicaIsStale(db)).toBe(!hidden)
  Atomics.store(flags, 0, 1)
  return { x, y, result: await worker.result }
}
