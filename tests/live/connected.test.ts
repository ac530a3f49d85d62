// Live queries, change feeds and TTL in a connected database (PostgreSQL): commits made by
// another process's database reach them once durable in the log, each once and in order.
import { describe, expect, it } from 'vitest'
import type { Commit } from '../../src/index'
import { connectedClosedAfterEach, freshName } from '../postgres/support'
import { waitUntil } from '../workers/support'

describe('live queries in a connected database', () => {
  const open = connectedClosedAfterEach()

  it("another connection's commits reach a watch and a change feed here", async () => {
    const name = freshName()
    const here = await open({ name })
    const there = await open({ name })
    await here.transactionAsync(() => here.createTable('orders'))
    await there.sync()
    const orders = here.getTable('orders')
    const seen: number[] = []
    const view = orders.watch({ where: { status: 'open' }, orderBy: 'id' }, (rows) => seen.push(rows.length))
    const feed = here.changes({ tables: ['orders'] })
    const remote = there.getTable('orders')
    for (let i = 1; i <= 5; i++) await there.transactionAsync(() => remote.insert({ id: i, status: 'open' }))
    await there.transactionAsync(() => remote.update({ status: 'shipped' }, { id: 2 }))
    // Every commit delivered (the initial call + 6): 4 rows are also seen midway, before id 5 arrives.
    await waitUntil(() => seen.length === 7, 10_000, 'the watch to see the other connection')
    expect(view.rows.map((r) => r.id)).toEqual([1, 3, 4, 5])
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 4])
    const commits: Commit[] = []
    for await (const c of feed) if (commits.push(c) === 6) break
    expect(commits.map((c) => c.ops.length)).toEqual([1, 1, 1, 1, 1, 1])
    view.close()
  })

  it('a watch sees its own connection\'s write once it is durable, never a rolled-back one', async () => {
    const here = await open({ name: freshName() })
    await here.transactionAsync(() => here.createTable('jobs'))
    const jobs = here.getTable('jobs')
    const seen: unknown[][] = []
    jobs.watch({}, (rows) => seen.push(rows.map((r) => r.id)))
    await here.transactionAsync(() => jobs.insert({ id: 'a' }))
    await expect(
      here.transactionAsync(() => {
        jobs.insert({ id: 'b' })
        throw new Error('no')
      }),
    ).rejects.toThrow('no')
    expect(seen).toEqual([[], ['a']])
  })

  it('the TTL sweep deletes expired records through transactionAsync', async () => {
    const here = await open({ name: freshName() })
    await here.transactionAsync(() => here.createTable('sessions', { ttl: { field: 'until' } }))
    const sessions = here.getTable('sessions')
    await here.transactionAsync(() => sessions.insert([{ id: 'old', until: Date.now() - 1 }, { id: 'new', until: null }]))
    expect(sessions.select().map((r) => r.id)).toEqual(['new'])
    await waitUntil(() => here.exportState().tables.find((t) => t.definition.name === 'sessions')?.records.length === 1, 10_000, 'the sweep')
  })
})
