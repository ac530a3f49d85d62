import { describe, expect, it } from 'vitest'
import { Database, InvalidArgumentError, type WatchDiff } from '../../src/index'
import { thrown } from '../support/helpers'

type Order = { id?: number; status: string; total: number; note?: string }

function setup() {
  const db = new Database()
  const orders = db.createTable<Order>('orders')
  orders.insert([
    { status: 'open', total: 10 },
    { status: 'shipped', total: 20 },
    { status: 'open', total: 30 },
  ])
  const calls: Array<{ rows: Order[]; diff: WatchDiff<Order> }> = []
  const record = (rows: Order[], diff: WatchDiff<Order>) => calls.push({ rows, diff })
  return { db, orders, calls, record }
}

describe('table.watch', () => {
  it('calls back at once with the current rows, all of them added', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.rows.map((r) => r.id)).toEqual([1, 3])
    expect(calls[0]?.diff).toEqual({ added: calls[0]?.rows, removed: [], changed: [] })
  })

  it('calls back once after a commit that changes the result, with what changed', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    orders.update({ status: 'shipped' }, { id: 1 })
    expect(calls).toHaveLength(2)
    expect(calls[1]?.rows.map((r) => r.id)).toEqual([3])
    expect(calls[1]?.diff).toEqual({ added: [], removed: [{ id: 1, status: 'open', total: 10 }], changed: [] })
  })

  it('reports an updated row that stays in the result as changed', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    orders.update({ total: 11 }, { id: 1 })
    expect(calls[1]?.diff).toEqual({ added: [], removed: [], changed: [{ id: 1, status: 'open', total: 11 }] })
  })

  it('does not call back for a commit that leaves the result as it was', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    orders.update({ total: 21 }, { id: 2 })
    orders.insert({ status: 'shipped', total: 5 })
    expect(calls).toHaveLength(1)
  })

  it('an update by key that brings a record into a result without limit calls back with it added', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    orders.update({ status: 'open' }, { id: 2 })
    expect(calls).toHaveLength(2)
    expect(calls[1]?.rows.map((r) => r.id)).toEqual([1, 2, 3])
    expect(calls[1]?.diff).toEqual({ added: [{ id: 2, status: 'open', total: 20 }], removed: [], changed: [] })
  })

  it('an update by key that takes a record out of a result without limit calls back with it removed', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    orders.update({ status: 'lost' }, { id: 3 })
    expect(calls).toHaveLength(2)
    expect(calls[1]?.rows.map((r) => r.id)).toEqual([1])
    expect(calls[1]?.diff).toEqual({ added: [], removed: [{ id: 3, status: 'open', total: 30 }], changed: [] })
  })

  it('does not call back when only a field outside the projected columns changed', () => {
    const { orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' }, columns: ['id', 'total'] }, record)
    orders.update({ note: 'gift' }, { id: 1 })
    expect(calls).toHaveLength(1)
  })

  it('never calls back for a rolled-back transaction', () => {
    const { db, orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    expect(() =>
      db.transaction(() => {
        orders.insert({ status: 'open', total: 1 })
        throw new Error('no')
      }),
    ).toThrow('no')
    expect(calls).toHaveLength(1)
  })

  it('calls back once for a transaction, after it commits, with its whole effect', () => {
    const { db, orders, calls, record } = setup()
    orders.watch({ where: { status: 'open' } }, record)
    db.transaction(() => {
      orders.insert({ status: 'open', total: 40 })
      orders.update({ status: 'shipped' }, { id: 3 })
      expect(calls).toHaveLength(1)
    })
    expect(calls).toHaveLength(2)
    expect(calls[1]?.diff.added.map((r) => r.id)).toEqual([4])
    expect(calls[1]?.diff.removed.map((r) => r.id)).toEqual([3])
  })

  it('keeps an ordered, limited window: a row pushed out is removed', () => {
    const { orders, calls, record } = setup()
    orders.watch({ orderBy: '-total', limit: 2 }, record)
    orders.insert({ status: 'open', total: 25 })
    expect(calls[1]?.rows.map((r) => r.total)).toEqual([30, 25])
    expect(calls[1]?.diff.added.map((r) => r.total)).toEqual([25])
    expect(calls[1]?.diff.removed.map((r) => r.total)).toEqual([20])
  })

  it('matches a change against the condition instead of re-running the query', () => {
    const { orders } = setup()
    let evaluated = 0
    orders.watch({ where: (r) => (evaluated++, r.status === 'open') }, () => undefined)
    evaluated = 0
    orders.update({ total: 12 }, { id: 1 })
    expect(evaluated).toBeLessThanOrEqual(2)
  })

  it('view.rows equals a fresh select and is read-only', () => {
    const { orders } = setup()
    const view = orders.watch({ where: { status: 'open' }, orderBy: '-total' }, () => undefined)
    orders.insert({ status: 'open', total: 15 })
    expect(view.rows).toEqual(orders.select({ where: { status: 'open' }, orderBy: '-total' }))
    expect(Object.isFrozen(view.rows)).toBe(true)
    expect(Object.isFrozen(view.rows[0])).toBe(true)
  })

  it('a callback that writes to its own table sees that write in its next call, once', () => {
    const { orders } = setup()
    const seen: number[][] = []
    orders.watch({ where: { status: 'open' }, orderBy: 'id' }, (rows) => {
      seen.push(rows.map((r) => r.id as number))
      if (rows.length === 3) orders.insert({ status: 'open', total: 1 }) // a write of its own, a new commit
    })
    orders.insert({ status: 'open', total: 5 })
    expect(seen).toEqual([[1, 3], [1, 3, 4], [1, 3, 4, 5]])
    expect(orders.count({ status: 'open' })).toBe(4)
  })

  it('a write that leaves every view alone still counts in the commit positions', () => {
    const { db, orders } = setup()
    const positions: Array<number | undefined> = []
    const off = db.onCommit((commit) => positions.push(commit.position))
    orders.update({ total: 20 }, { id: 2 })
    off()
    orders.watch({ where: { status: 'open' } }, () => undefined)
    orders.update({ total: 21 }, { id: 2 }) // shipped: no view needs this commit
    db.onCommit((commit) => positions.push(commit.position))
    orders.update({ total: 22 }, { id: 2 })
    expect(positions).toEqual([positions[0], (positions[0] as number) + 2])
  })

  it('a write made by a callback reaches a view not yet told of the commit before it', () => {
    const { db, orders } = setup()
    let wrote = false
    orders.watch({ where: { status: 'open' } }, (rows) => {
      // Told of the transaction below first: moves record 2 out of the second view's result.
      if (!wrote && rows.some((r) => r.total === 11)) (wrote = true), orders.update({ total: 5 }, { id: 2 })
    })
    const big = orders.watch({ where: orders.field('total').gt(100) }, () => undefined)
    db.transaction(() => {
      orders.update({ total: 11 }, { id: 1 })
      orders.update({ total: 150 }, { id: 2 })
    })
    expect(big.rows).toEqual(orders.select({ where: orders.field('total').gt(100), copy: false }))
    expect(big.rows).toEqual([])
  })

  it('view.close() stops the callbacks', () => {
    const { orders, calls, record } = setup()
    const view = orders.watch({}, record)
    view.close()
    orders.insert({ status: 'open', total: 1 })
    expect(calls).toHaveLength(1)
    expect(view.closed).toBe(true)
  })

  it('closing the database closes its views: view.closed is true and no callback follows', () => {
    const { db, orders, calls, record } = setup()
    const view = orders.watch({ where: { status: 'open' } }, record)
    db.close()
    expect(view.closed).toBe(true)
    expect(calls).toHaveLength(1)
  })

  it('a dropped table empties the view once and closes it', () => {
    const { db, orders, calls, record } = setup()
    const view = orders.watch({ where: { status: 'open' } }, record)
    db.dropTable('orders')
    expect(calls).toHaveLength(2)
    expect(calls[1]?.rows).toEqual([])
    expect(calls[1]?.diff.removed.map((r) => r.id)).toEqual([1, 3])
    expect(view.closed).toBe(true)
  })

  it('refuses copy: true, since rows are shared by every callback', () => {
    const { orders } = setup()
    expect(thrown(() => orders.watch({ copy: true }, () => undefined))).toBeInstanceOf(InvalidArgumentError)
  })

  it('refuses bad query options and a missing callback like select does', () => {
    const { orders } = setup()
    expect(thrown(() => orders.watch({ limit: -1 }, () => undefined))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => orders.watch({ orderby: 'total' } as never, () => undefined))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => orders.watch({}, undefined as never))).toBeInstanceOf(InvalidArgumentError)
  })

  it('a callback that throws at once leaves no view subscribed', () => {
    const { db, orders } = setup()
    let calls = 0
    expect(() =>
      orders.watch({}, () => {
        calls++
        throw new Error('boom')
      }),
    ).toThrow('boom')
    orders.insert({ status: 'open', total: 1 })
    expect(calls).toBe(1)
    db.close()
  })
})
