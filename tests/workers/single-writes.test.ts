// Updates by key outside a transaction run beside other threads' updates of the same table (each
// checked, when it reaches the shared log, against changes to its record): nothing lost, and
// still excluded by every reader and writer of the table.
import { afterEach, describe, expect, it } from 'vitest'
import { Workers, sharedInts, waitUntil, writersWaiting } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

describe('updates by key from several workers', () => {
  it('N workers × M increments spread over a few records leave each record exactly its share', async () => {
    const N = 4
    const M = 400
    const R = 8
    const db = workers.database()
    const counters = db.createTable('counters')
    counters.insert(Array.from({ length: R }, (_, i) => ({ id: i + 1, v: 0 })))
    db.createTable('items')
    const ws = workers.spawnMany('increment', N, (i) => ({ db: db.handle(), i, m: M, insertEvery: M, records: R }))
    await workers.start(ws)
    await workers.results(ws)
    expect(counters.select().map((r) => r.v)).toEqual(Array.from({ length: R }, () => (N * M) / R))
  })

  it('2 workers updating distinct records see each other\'s updates as soon as they are told of them', async () => {
    const M = 3000
    const R = 8
    const db = workers.database()
    const counters = db.createTable('counters')
    counters.insert(Array.from({ length: 2 * R }, (_, i) => ({ id: i + 1, v: 0 })))
    const progress = sharedInts(2)
    const ws = workers.spawnMany('distinct-increment', 2, (i) => ({ db: db.handle(), i, m: M, records: R, progress }))
    await workers.start(ws)
    expect(await workers.results(ws)).toEqual([[], []])
    expect(counters.select().map((r) => r.v)).toEqual(Array.from({ length: 2 * R }, () => M / R))
  })

  it('updates by key and transactions that read and rewrite the same record from several workers lose no increment', async () => {
    const M = 300
    const db = workers.database()
    const counters = db.createTable('counters')
    counters.insert({ id: 1, v: 0 })
    db.createTable('items')
    const modes = ['key', 'transaction', 'key', 'transaction']
    const ws = modes.map((mode, i) => workers.spawn('increment', { db: db.handle(), i, m: M, insertEvery: M, mode }))
    await workers.start(ws)
    await workers.results(ws)
    expect(counters.get(1)).toEqual({ id: 1, v: modes.length * M })
  })

  it('an update by key waits while another thread holds the read lock, and lands once it is released', async () => {
    const db = workers.database({ lockTimeoutMs: 60_000 })
    const a = db.createTable('a')
    a.insert({ id: 1, v: 0 })
    let release = (): void => {}
    const held = a.lock.read(() => new Promise<void>((resolve) => (release = resolve)))
    await waitUntil(() => a.lock.locked, 5000, 'the read lock')
    const writer = workers.spawn('write-one', { db: db.handle() })
    await writer.next('attached')
    await waitUntil(() => writersWaiting(db) > 0, 5000, 'the update to wait')
    expect(a.get(1)).toEqual({ id: 1, v: 0 })
    release()
    await held
    expect(await writer.result).toMatchObject({ ok: true })
    expect(a.get(1)).toEqual({ id: 1, v: 1 })
  })
})
