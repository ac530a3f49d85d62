// Commit listeners hear every thread's commits: each one once, whole, in commit order, with the
// `before` values filled in from the listening thread's replica.
import { afterEach, describe, expect, it } from 'vitest'
import type { Commit } from 'dictdb'
import { Remote, Workers, runProgram } from './support'
import { CHILD_LIMIT_MS } from '../support/limits'

const workers = new Workers()
afterEach(() => workers.terminate())

describe('db.onCommit across worker_threads', () => {
  it("the main thread's listener receives the commits made in a worker, with before values", async () => {
    const db = workers.database()
    db.createTable('a').insert({ id: 1, v: 0 })
    db.createTable('b')
    const commits: Commit[] = []
    db.onCommit((commit) => void commits.push(commit))
    const w = await Remote.start(workers, db)
    await w.call((db, { increment }) => {
      const a = db.getTable('a')
      a.update({ v: increment(5) }, { id: 1 })
      a.insert({ id: 2, v: 7 })
      db.transaction(() => {
        a.delete({ id: 2 })
        db.getTable('b').insert({ id: 'x', from: 'worker' })
      })
      try {
        db.transaction(() => {
          a.update({ v: 999 }, { id: 1 })
          throw new Error('rolled back: never seen')
        })
      } catch {}
      db.createTable('c', { indexes: [{ field: 'k', type: 'hash', unique: false }] })
    })
    expect(commits).toEqual([]) // heard when this thread next looks at the database
    expect(db.listTables()).toEqual(['a', 'b', 'c'])
    expect(commits.map((c) => c.ops)).toEqual([
      [{ type: 'record', table: 'a', key: 1, before: { id: 1, v: 0 }, after: { id: 1, v: 5 } }],
      [{ type: 'record', table: 'a', key: 2, before: undefined, after: { id: 2, v: 7 } }],
      [
        { type: 'record', table: 'a', key: 2, before: { id: 2, v: 7 }, after: undefined },
        { type: 'record', table: 'b', key: 'x', before: undefined, after: { id: 'x', from: 'worker' } },
      ],
      [{ type: 'createTable', table: 'c', definition: { name: 'c', primaryKey: 'id', indexes: [{ field: 'k', type: 'hash', unique: false }] } }],
    ])
  })

  it("a worker's listener receives the main thread's and the other workers' commits, not its own twice", async () => {
    const db = workers.database()
    db.createTable('a')
    const w1 = await Remote.start(workers, db, 'w1')
    const w2 = await Remote.start(workers, db, 'w2')
    await w1.call((db, _d, scope) => {
      scope.heard = []
      db.onCommit((commit) => scope.heard.push(commit.ops.map((op) => (op.type === 'record' ? op.after : op.type))))
    })
    db.getTable('a').insert({ by: 'main' })
    await w2.call((db) => db.getTable('a').insert({ by: 'w2' }))
    await w1.call((db) => db.getTable('a').insert({ by: 'w1' }))
    expect(await w1.call((_db, _d, scope) => scope.heard)).toEqual([[{ id: 1, by: 'main' }], [{ id: 2, by: 'w2' }], [{ id: 3, by: 'w1' }]])
  })

  it('a listener that reads hears each commit of a worker exactly once, in order', async () => {
    const db = workers.database()
    const a = db.createTable('a')
    const heard: unknown[] = []
    db.onCommit((commit) => {
      a.count() // a read catches the replica up: it must not deliver anything again
      for (const op of commit.ops) if (op.type === 'record') heard.push(op.key)
    })
    const w = await Remote.start(workers, db)
    await w.call((db) => {
      const a = db.getTable('a')
      for (let i = 0; i < 20; i++) a.insert({ i })
    })
    expect(a.count()).toBe(20)
    expect(heard).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('a listener that reads while a deep backlog is delivered neither repeats nor overflows', async () => {
    const db = workers.database()
    const a = db.createTable('a')
    let calls = 0
    db.onCommit(() => {
      calls++
      a.get(1)
    })
    const w = await Remote.start(workers, db)
    await w.call((db) => {
      const a = db.getTable('a')
      for (let i = 0; i < 2000; i++) a.insert({ i })
    })
    expect(a.count()).toBe(2000)
    expect(calls).toBe(2000)
  })

  it("a listener that writes while the main thread commits a transaction behind a worker's commit does not hang", async () => {
    const run = await runProgram('listener-writes', [], CHILD_LIMIT_MS)
    expect(run.timedOut).toBe(false)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    // The worker's commit came first in the log, then the transaction, then the listener's write.
    expect(JSON.parse(run.stdout)).toEqual({ seen: ['b', 'a', 'c'], c: 1 })
  })
})
