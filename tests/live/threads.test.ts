// Live queries and change feeds in a shared database: other threads' commits reach them while
// this thread is idle (it follows the shared log), each once and in order.
import { afterEach, describe, expect, it } from 'vitest'
import { ChangeFeedOverflowError, type Commit } from '../../src/index'
import { Remote, Workers, waitUntil } from '../workers/support'

const workers = new Workers()
afterEach(() => workers.terminate())

describe('live queries across worker_threads', () => {
  it("a worker's commits reach a watch in the main thread without the main thread reading", async () => {
    const db = workers.database()
    const jobs = db.createTable('jobs')
    const seen: number[] = []
    const view = jobs.watch({ where: { state: 'ready' }, orderBy: 'id' }, (rows) => seen.push(rows.length))
    const w = await Remote.start(workers, db)
    await w.call((db) => {
      const jobs = db.getTable('jobs')
      for (let i = 1; i <= 20; i++) jobs.insert({ id: i, state: i % 2 === 0 ? 'ready' : 'new' })
      jobs.update({ state: 'done' }, { id: 2 })
    })
    // The last commit (the update of id 2) is the one to wait for: after the insert of id 18 the
    // watch already holds 9 rows (2…18), an earlier state a loaded machine may let this thread see.
    await waitUntil(() => view.rows.length === 9 && view.rows[0]?.id === 4, 10_000, 'the watch to see the worker commits')
    expect(view.rows.map((r) => r.id)).toEqual([4, 6, 8, 10, 12, 14, 16, 18, 20])
    // One callback per commit that changed the result: the initial one, 10 inserts, 1 update.
    expect(seen).toHaveLength(12)
    expect(jobs.select({ where: { state: 'ready' }, orderBy: 'id', copy: false })).toEqual(view.rows)
    view.close()
  })

  it('a change feed in the main thread gets every commit of a faster worker, in order', async () => {
    const db = workers.database()
    db.createTable('events')
    const feed = db.changes({ tables: ['events'] })
    const w = await Remote.start(workers, db)
    const producing = w.call((db) => {
      const events = db.getTable('events')
      for (let i = 0; i < 2000; i++) events.insert({ id: i })
    })
    const keys: number[] = []
    for await (const commit of feed) {
      for (const op of commit.ops) if (op.type === 'record') keys.push(op.key as number)
      if (keys.length % 100 === 0) await new Promise((r) => setTimeout(r, 1)) // a slower consumer
      if (keys.length === 2000) break
    }
    await producing
    expect(keys).toEqual([...Array(2000).keys()])
  })

  it('a change feed that falls behind a worker stops with ChangeFeedOverflowError, its buffer bounded', async () => {
    const db = workers.database()
    db.createTable('events')
    const feed = db.changes({ maxBuffered: 50 })
    const w = await Remote.start(workers, db)
    let maxBuffered = 0
    const watching = setInterval(() => (maxBuffered = Math.max(maxBuffered, feed.buffered)), 1)
    await w.call((db) => {
      const events = db.getTable('events')
      for (let i = 0; i < 2000; i++) events.insert({ id: i })
    })
    await db.sync()
    clearInterval(watching)
    const got: Commit[] = []
    await expect(
      (async () => {
        for await (const commit of feed) got.push(commit)
      })(),
    ).rejects.toBeInstanceOf(ChangeFeedOverflowError)
    expect(got).toHaveLength(50)
    expect(maxBuffered).toBeLessThanOrEqual(50)
  })
})
