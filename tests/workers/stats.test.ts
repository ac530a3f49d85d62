// db.stats() on a shared database: lock contention summed over every thread, and the change log.
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from 'dictdb'
import { Remote, Workers, waitUntil, writersWaiting } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

describe('db.stats() on a shared database', () => {
  it('reports the log bytes used and free, which add up to the ring', () => {
    const db = workers.database({ logBytes: 1 << 16 })
    const t = db.createTable('t')
    for (let i = 0; i < 10; i++) t.insert({ i })
    const { shared } = db.stats()
    expect(shared?.logBytesUsed).toBeGreaterThan(0)
    expect((shared?.logBytesUsed ?? 0) + (shared?.logBytesFree ?? 0)).toBe(1 << 16)
    expect(shared?.replicas).toBe(1)
  })

  it('reports how far the slowest replica trails, until it catches up', () => {
    const db = workers.database()
    const other = workers.track(Database.attach(db.handle()))
    const t = db.createTable('t')
    t.insert({})
    expect(db.stats().shared?.slowestReplicaLagBytes).toBeGreaterThan(0)
    other.getTable('t').count()
    expect(db.stats().shared).toMatchObject({ slowestReplicaLagBytes: 0, replicas: 2 })
  })

  it('counts the snapshots written when the ring drops commits', () => {
    const db = workers.database({ logBytes: 1 << 16 })
    const t = db.createTable('t')
    expect(db.stats().shared?.snapshotsTaken).toBe(0)
    for (let i = 0; i < 400; i++) t.insert({ pad: 'x'.repeat(400) })
    expect(db.stats().shared?.snapshotsTaken).toBeGreaterThan(0)
  })

  it("counts a worker's wait on a table the main thread holds, as seen from every thread", async () => {
    const db = workers.database()
    const a = db.createTable('a')
    let release = (): void => {}
    const holding = a.lock.write(() => new Promise<void>((resolve) => (release = resolve)))
    const worker = await Remote.start(workers, db)
    const written = worker.call((db) => db.getTable('a').insert({ by: 'worker' }))
    await waitUntil(() => writersWaiting(db) === 1, 5000, 'the worker to wait')
    release()
    await holding
    await written
    expect(db.stats().tables.a).toMatchObject({ waits: 1, timeouts: 0 })
    expect(await worker.call((db) => db.stats().tables.a?.waits)).toBe(1)
  })
})
