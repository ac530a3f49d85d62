import assert from 'node:assert/strict'
import { describe, expect, it, vi } from 'vitest'
import { Database, type Commit, type Logger, type RecordChange } from '../src/index'
import { thrown } from './support/helpers'

function setup(logger?: Logger) {
  const db = logger === undefined ? new Database() : new Database({ logger })
  const users = db.createTable('users')
  const orders = db.createTable('orders')
  const commits: Commit[] = []
  const off = db.onCommit((commit) => commits.push(commit))
  return { db, users, orders, commits, off }
}

function fakeLogger() {
  return { warn: vi.fn(), error: vi.fn() }
}

describe('db.onCommit', () => {
  it('a single insert is one commit with one record op', () => {
    const { users, commits } = setup()
    users.insert({ name: 'Ada' })
    expect(commits).toHaveLength(1)
    expect(commits[0]?.ops).toEqual([{ type: 'record', table: 'users', key: 1, before: undefined, after: { id: 1, name: 'Ada' } }])
  })

  it('an update is one commit whose op carries before and after', () => {
    const { users, commits } = setup()
    users.insert({ id: 1, n: 1 })
    users.update({ n: 2 }, { id: 1 })
    expect(commits).toHaveLength(2)
    expect(commits[1]?.ops).toEqual([{ type: 'record', table: 'users', key: 1, before: { id: 1, n: 1 }, after: { id: 1, n: 2 } }])
  })

  it('a delete is one commit whose op has no after', () => {
    const { users, commits } = setup()
    users.insert({ id: 1 })
    users.delete({ id: 1 })
    expect(commits[1]?.ops).toMatchObject([{ type: 'record', table: 'users', key: 1, before: { id: 1 }, after: undefined }])
  })

  it("a delete's op has only the fields of a record change, whatever the key (nothing the store keeps shows)", () => {
    const { users, commits } = setup()
    users.insert([{ id: 'b', n: 1 }, { id: 1, n: 2 }])
    users.delete({ id: 'b' })
    users.delete({ id: 1 })
    for (const [key, n] of [['b', 1], [1, 2]] as const) {
      const op = commits.map((c) => c.ops[0] as RecordChange).find((o) => o.key === key && o.after === undefined)
      assert.deepStrictEqual(op, { type: 'record', table: 'users', key, before: { id: key, n }, after: undefined })
      expect(JSON.stringify(op)).toBe(JSON.stringify({ type: 'record', table: 'users', key, before: { id: key, n } }))
    }
  })

  it('a list insert or a many-record update is one commit with every op in order', () => {
    const { users, commits } = setup()
    users.insert([{ n: 1 }, { n: 2 }, { n: 3 }])
    users.update({ seen: true })
    expect(commits).toHaveLength(2)
    expect(commits[0]?.ops.map((op) => (op.type === 'record' ? op.key : null))).toEqual([1, 2, 3])
    expect(commits[1]?.ops).toHaveLength(3)
  })

  it('a committed transaction is one commit with all its ops, across tables, in order', () => {
    const { db, users, orders, commits } = setup()
    db.transaction(() => {
      users.insert({ id: 'u1' })
      orders.insert({ id: 'o1', user: 'u1' })
      users.update({ vip: true }, { id: 'u1' })
    })
    expect(commits).toHaveLength(1)
    expect(commits[0]?.ops.map((op) => [op.type, op.table, op.type === 'record' ? op.key : null])).toEqual([
      ['record', 'users', 'u1'],
      ['record', 'orders', 'o1'],
      ['record', 'users', 'u1'],
    ])
  })

  it('listeners are told after the commit, when the changes are visible', () => {
    const { db, users } = setup()
    const seen: number[] = []
    db.onCommit(() => seen.push(users.count()))
    db.transaction(() => {
      users.insert({})
      users.insert({})
    })
    expect(seen).toEqual([2])
  })

  it('a rolled-back transaction tells nothing', () => {
    const { db, users, commits } = setup()
    expect(() =>
      db.transaction(() => {
        users.insert({})
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(commits).toEqual([])
  })

  it('a failed single operation tells nothing', () => {
    const { users, commits } = setup()
    users.insert({ id: 1 })
    thrown(() => users.insert({ id: 1 }))
    thrown(() => users.update({ a: 1 }, { id: 99 }))
    thrown(() => users.insert([{ id: 2 }, { id: 2 }]))
    expect(commits).toHaveLength(1)
  })

  it('a read tells nothing', () => {
    const { users, commits } = setup()
    users.select()
    users.count()
    users.get(1)
    expect(commits).toEqual([])
  })

  it('a savepoint rolled back inside a committed transaction leaves only the surviving ops', () => {
    const { db, users, commits } = setup()
    db.transaction(() => {
      users.insert({ id: 'kept' })
      try {
        db.transaction(() => {
          users.insert({ id: 'dropped' })
          throw new Error('inner')
        })
      } catch {
        // handled
      }
    })
    expect(commits).toHaveLength(1)
    expect(commits[0]?.ops.map((op) => (op.type === 'record' ? op.key : null))).toEqual(['kept'])
  })

  it('schema changes are commits too', () => {
    const { db, users, commits } = setup()
    db.createTable('more')
    users.createIndex('name')
    expect(commits.map((c) => c.ops.map((op) => op.type))).toEqual([['createTable'], ['createIndex']])
  })

  it('the unsubscribe function stops the calls', () => {
    const { users, commits, off } = setup()
    users.insert({})
    off()
    users.insert({})
    expect(commits).toHaveLength(1)
  })

  it('a listener unsubscribed by another during a delivery is not called for that commit, one subscribed then hears the next', () => {
    const { db, users } = setup()
    const heard: string[] = []
    let offB = (): void => undefined
    db.onCommit(() => {
      heard.push('a')
      offB()
      db.onCommit(() => heard.push('c'))
    })
    offB = db.onCommit(() => heard.push('b'))
    users.insert({})
    expect(heard).toEqual(['a'])
    users.insert({})
    expect(heard).toEqual(['a', 'a', 'c'])
  })

  it('every listener is called, in subscription order', () => {
    const { db, users } = setup()
    const order: string[] = []
    db.onCommit(() => order.push('a'))
    db.onCommit(() => order.push('b'))
    users.insert({})
    expect(order).toEqual(['a', 'b'])
  })

  it('a throwing listener does not undo the commit and is reported to the logger', () => {
    const logger = fakeLogger()
    const { db, users, commits } = setup(logger)
    const failure = new Error('listener bug')
    db.onCommit(() => {
      throw failure
    })
    const after: string[] = []
    db.onCommit(() => after.push('called'))
    expect(users.insert({ name: 'Ada' })).toBe(1)
    expect(users.count()).toBe(1)
    expect(commits).toHaveLength(1)
    expect(after).toEqual(['called'])
    expect(logger.error).toHaveBeenCalledTimes(1)
    expect(logger.error.mock.calls[0]).toContain(failure)
  })

  it('a throwing listener does not undo a transaction', () => {
    const logger = fakeLogger()
    const { db, users } = setup(logger)
    db.onCommit(() => {
      throw new Error('listener bug')
    })
    expect(db.transaction(() => users.insert({}))).toBe(1)
    expect(users.count()).toBe(1)
    expect(logger.error).toHaveBeenCalledTimes(1)
  })

  it('a listener runs after the committing call has released its locks', () => {
    const { db, users } = setup()
    const locked: boolean[] = []
    db.onCommit(() => locked.push(users.lock.locked))
    users.insert({})
    db.transaction(() => users.insert({}))
    expect(locked).toEqual([false, false])
  })

  it("a listener's write is a new commit, delivered to every listener after the current one", () => {
    const { db, users, orders } = setup()
    const heard: string[][] = []
    db.onCommit((commit) => {
      if (commit.ops.some((op) => op.table === 'users')) orders.insert({ for: 'user' })
    })
    db.onCommit((commit) => void heard.push(commit.ops.map((op) => op.table)))
    users.insert({})
    expect(heard).toEqual([['users'], ['orders']])
    expect(orders.count()).toBe(1)
  })

  it('commits made by listeners are delivered in the order they were made', () => {
    const { db, users, orders } = setup()
    const heard: unknown[] = []
    db.onCommit((commit) => {
      const op = commit.ops[0]
      if (op?.type === 'record' && op.table === 'users' && (op.key as number) < 3) {
        users.insert({})
        orders.insert({ after: op.key })
      }
    })
    db.onCommit((commit) => void heard.push(commit.ops.map((op) => `${op.table}:${op.type === 'record' ? String(op.key) : ''}`)[0]))
    users.insert({})
    expect(heard).toEqual(['users:1', 'users:2', 'orders:1', 'users:3', 'orders:2'])
  })

  it('a listener that writes inside a transaction commit sees its write committed as its own commit', () => {
    const { db, users, orders, commits } = setup()
    db.onCommit((commit) => {
      if (commit.ops.some((op) => op.table === 'users')) db.transaction(() => orders.insert({ id: 'o' }))
    })
    db.transaction(() => users.insert({ id: 'u' }))
    expect(commits.map((c) => c.ops.map((op) => op.table))).toEqual([['users'], ['orders']])
    expect(orders.get('o')).toEqual({ id: 'o' })
  })

  it('a listener subscribed by a listener hears only the commits after it subscribed', () => {
    const { db, users } = setup()
    const late: unknown[] = []
    let subscribed = false
    db.onCommit(() => {
      if (subscribed) return
      subscribed = true
      db.onCommit((commit) => void late.push(commit.ops.length))
    })
    users.insert({})
    users.insert([{}, {}])
    expect(late).toEqual([2])
  })
})
