import { describe, expect, it } from 'vitest'
import { ChangeFeedOverflowError, Database, DictDBError, InvalidArgumentError, type Commit } from '../../src/index'
import { thrown } from '../support/helpers'

function setup() {
  const db = new Database()
  return { db, users: db.createTable('users'), orders: db.createTable('orders') }
}

/** Reads `n` commits from a feed. */
async function take(feed: AsyncIterator<Commit>, n: number): Promise<Commit[]> {
  const out: Commit[] = []
  for (let i = 0; i < n; i++) {
    const r = await feed.next()
    if (r.done === true) break
    out.push(r.value)
  }
  return out
}

const keys = (commits: Commit[]) => commits.map((c) => c.ops.map((op) => (op.type === 'record' ? op.key : op.type)))

describe('db.changes', () => {
  it('yields every committed change set from its creation on, in order', async () => {
    const { db, users } = setup()
    users.insert({ id: 0 })
    const feed = db.changes()
    users.insert({ id: 1 })
    db.transaction(() => {
      users.insert({ id: 2 })
      users.update({ seen: true }, { id: 1 })
    })
    expect(keys(await take(feed, 2))).toEqual([[1], [2, 1]])
  })

  it('never yields a rolled-back transaction', async () => {
    const { db, users } = setup()
    const feed = db.changes()
    try {
      db.transaction(() => {
        users.insert({ id: 1 })
        throw new Error('no')
      })
    } catch {}
    users.insert({ id: 2 })
    expect(keys(await take(feed, 1))).toEqual([[2]])
    expect(feed.buffered).toBe(0)
  })

  it('with tables, yields only the commits touching them, with only their ops', async () => {
    const { db, users, orders } = setup()
    const feed = db.changes({ tables: ['orders'] })
    users.insert({ id: 'u' })
    db.transaction(() => {
      users.insert({ id: 'v' })
      orders.insert({ id: 'o' })
    })
    expect(keys(await take(feed, 1))).toEqual([['o']])
    expect(feed.buffered).toBe(0)
  })

  it('wakes a consumer that waits for the next commit', async () => {
    const { db, users } = setup()
    const feed = db.changes()
    const next = feed.next()
    setTimeout(() => users.insert({ id: 7 }), 1)
    expect(keys([(await next).value as Commit])).toEqual([[7]])
  })

  it('a consumer slower than its producer gets every commit while the buffer holds them', async () => {
    const { db, users } = setup()
    const feed = db.changes({ maxBuffered: 100 })
    const got: Commit[] = []
    const consumer = (async () => {
      for await (const commit of feed) {
        got.push(commit)
        await new Promise((r) => setImmediate(r))
        if (got.length === 300) break
      }
    })()
    // Bursts of 80 commits, each far faster than the consumer; the next burst comes once it caught up.
    for (let i = 0; i < 300; i++) {
      users.insert({ id: i })
      expect(feed.buffered).toBeLessThanOrEqual(100)
      if (i % 80 === 79) while (feed.buffered > 10) await new Promise((r) => setImmediate(r))
    }
    await consumer
    expect(got.map((c) => (c.ops[0] as { key: number }).key)).toEqual([...Array(300).keys()])
  })

  it('a consumer that falls maxBuffered commits behind gets the buffered ones, then ChangeFeedOverflowError', async () => {
    const { db, users } = setup()
    const feed = db.changes({ maxBuffered: 10 })
    for (let i = 0; i < 1000; i++) users.insert({ id: i })
    expect(feed.buffered).toBe(10)
    const got: number[] = []
    const error = await (async () => {
      try {
        for await (const commit of feed) got.push((commit.ops[0] as { key: number }).key)
      } catch (e) {
        return e
      }
    })()
    expect(got).toEqual([...Array(10).keys()])
    expect(error).toBeInstanceOf(ChangeFeedOverflowError)
    expect(error).toBeInstanceOf(DictDBError)
    expect([(error as DictDBError).code, (error as DictDBError).name]).toEqual(['InvalidStateError', 'ChangeFeedOverflowError'])
  })

  it("with onOverflow: 'reset', a consumer that falls behind gets one reset commit, then the commits after it", async () => {
    const { db, users } = setup()
    const feed = db.changes({ maxBuffered: 10, onOverflow: 'reset' })
    for (let i = 0; i < 1000; i++) users.insert({ id: i })
    expect(feed.buffered).toBe(1)
    const [reset] = await take(feed, 1)
    expect(reset).toEqual({ ops: [], reset: true, position: 1002 }) // 2 createTable commits, then 1000 inserts
    users.insert({ id: 'after' })
    expect(keys(await take(feed, 1))).toEqual([['after']])
  })

  it('break ends the feed and frees it: later commits are not kept', async () => {
    const { db, users } = setup()
    const feed = db.changes()
    users.insert({ id: 1 })
    for await (const _ of feed) break
    users.insert({ id: 2 })
    expect(feed.buffered).toBe(0)
    expect(await feed.next()).toEqual({ value: undefined, done: true })
  })

  it('closing the database ends a waiting consumer', async () => {
    const { db } = setup()
    const feed = db.changes()
    const next = feed.next()
    db.close()
    expect(await next).toEqual({ value: undefined, done: true })
  })

  it('refuses bad options', () => {
    const { db } = setup()
    expect(thrown(() => db.changes({ maxBuffered: 0 }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => db.changes({ tables: 'users' } as never))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => db.changes({ onOverflow: 'drop' } as never))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => db.changes({ buffer: 1 } as never))).toBeInstanceOf(InvalidArgumentError)
  })
})

describe('db.changes positions', () => {
  it('every commit carries its position: in a local database, the number of commits since the database was made', async () => {
    const { db, users } = setup() // two createTable commits: positions 1 and 2
    users.insert({ id: 1 })
    const feed = db.changes()
    users.insert({ id: 2 })
    db.transaction(() => users.insert([{ id: 3 }, { id: 4 }]))
    expect((await take(feed, 2)).map((c) => c.position)).toEqual([4, 5])
  })

  it('a feed resumed from the position of the last commit read gets the commits after it', async () => {
    const { db, users } = setup()
    const first = db.changes()
    users.insert({ id: 1 })
    const [last] = await take(first, 1)
    await first.return()
    const resumed = db.changes({ from: last?.position as number })
    users.insert({ id: 2 })
    expect(keys(await take(resumed, 1))).toEqual([[2]])
  })

  it('resuming from a position the local database has passed is ChangeFeedOverflowError, since no log keeps the commits in between', () => {
    const { db, users } = setup()
    users.insert([{ id: 1 }])
    users.insert([{ id: 2 }])
    const error = thrown(() => db.changes({ from: 3 }))
    expect(error).toBeInstanceOf(ChangeFeedOverflowError)
    expect((error as Error).message).toContain('position 3')
  })

  it("resuming from a passed position with onOverflow: 'reset' starts with a reset carrying the state's position", async () => {
    const { db, users } = setup()
    users.insert({ id: 1 })
    users.insert({ id: 2 })
    const feed = db.changes({ from: 0, onOverflow: 'reset' })
    users.insert({ id: 3 }) // in the state read at the reset: not delivered after it
    const [reset] = await take(feed, 1)
    expect(reset).toEqual({ ops: [], reset: true, position: 5 })
    users.insert({ id: 4 })
    expect((await take(feed, 1)).map((c) => c.position)).toEqual([6])
  })

  it('refuses a position past the end of the log, or one that is not a position', () => {
    const { db, users } = setup()
    users.insert({ id: 1 })
    expect(thrown(() => db.changes({ from: 4 }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => db.changes({ from: -1 }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => db.changes({ from: '1' } as never))).toBeInstanceOf(InvalidArgumentError)
  })

  it('in a shared database, positions are offsets of the shared log, the same in every thread', async () => {
    const db = new Database({ shared: true })
    const other = Database.attach(db.handle())
    const users = db.createTable('users')
    const here = db.changes()
    const there = other.changes()
    users.insert({ id: 1 })
    users.insert({ id: 2 })
    const a = (await take(here, 2)).map((c) => c.position)
    other.listTables() // catches the other handle up
    const b = (await take(there, 2)).map((c) => c.position)
    expect(a).toEqual(b)
    expect(a[0]).toBeLessThan(a[1] as number)
    other.close()
    db.close()
  })

  it('in a shared database, a handle resumes from a position another thread kept, over the commits it has not applied yet', async () => {
    const db = new Database({ shared: true })
    const users = db.createTable('users')
    const other = Database.attach(db.handle())
    const feed = db.changes()
    users.insert({ id: 1 })
    users.insert({ id: 2 })
    users.insert({ id: 3 })
    const [first] = await take(feed, 1)
    const resumed = other.changes({ from: first?.position as number })
    expect(keys(await take(resumed, 2))).toEqual([[2], [3]])
    other.close()
    db.close()
  })
})
