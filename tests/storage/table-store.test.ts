import { describe, expect, it } from 'vitest'
import { Database } from '../../src/index'
import { TableStore } from '../../src/storage/table-store'
import type { Rec } from '../../src/values/types'

/** A table of flat records of one shape (what lets copies skip every per-record test). */
function flatTable() {
  const db = new Database()
  const t = db.createTable('t')
  t.createIndex('team', { type: 'hash' })
  t.insert([
    { id: 1, team: 'a', n: 1 },
    { id: 2, team: 'a', n: 2 },
    { id: 3, team: 'b', n: 3 },
  ])
  return { db, t }
}

describe('copies of stored records when the records stop sharing one flat shape', () => {
  it('a record updated to hold an object comes back from get and select as a copy that does not share it', () => {
    const { t } = flatTable()
    t.update({ n: { deep: [1] } }, { id: 2 })
    const got = t.get(2) as { n: { deep: number[] } }
    got.n.deep.push(2)
    const [, selected] = t.select({ where: { team: 'a' } }) as Array<{ n: { deep: number[] } }>
    selected?.n.deep.push(3)
    expect(t.get(2)).toEqual({ id: 2, team: 'a', n: { deep: [1] } })
    expect(Object.isFrozen(got.n)).toBe(false)
  })

  it('a record inserted with a field the others lack comes back with every field', () => {
    const { t } = flatTable()
    t.insert({ id: 4, team: 'a', n: 4, extra: true })
    expect(t.select({ where: { team: 'a' } })).toEqual([
      { id: 1, team: 'a', n: 1 },
      { id: 2, team: 'a', n: 2 },
      { id: 4, team: 'a', n: 4, extra: true },
    ])
  })

  it('a record given a new field by an update comes back with it, the others without it', () => {
    const { t } = flatTable()
    t.update({ extra: 'x' }, { id: 1 })
    expect(t.select({ where: { team: 'a' } })).toEqual([
      { id: 1, team: 'a', n: 1, extra: 'x' },
      { id: 2, team: 'a', n: 2 },
    ])
  })

  it('after a rolled-back emptying, the records put back come back whole, nested values copied', () => {
    const { db, t } = flatTable()
    t.update({ n: { deep: 1 } }, { id: 1 })
    expect(() =>
      db.transaction(() => {
        t.update({ n: 20 }, { id: 2 })
        t.delete()
        t.insert({ id: 9, other: 'shape' })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    const all = t.select()
    expect(all).toEqual([
      { id: 1, team: 'a', n: { deep: 1 } },
      { id: 2, team: 'a', n: 2 },
      { id: 3, team: 'b', n: 3 },
    ])
    expect(Object.isFrozen(all[0]?.n)).toBe(false)
  })

  it('a table emptied and refilled with records of another shape copies them whole', () => {
    const { t } = flatTable()
    t.delete()
    t.insert([{ id: 5, when: new Date(0) }, { id: 6, when: new Date(1) }])
    const [first] = t.select() as Array<{ when: Date }>
    expect(first?.when).toEqual(new Date(0))
    first?.when.setTime(99)
    expect(t.get(5)).toEqual({ id: 5, when: new Date(0) })
  })
})

describe('the fields of an update vouched for', () => {
  /** A store of flat records `{ id, n }`, and the update of record 1 to `n: 2`, vouched for. */
  function vouchedUpdate() {
    const store = new TableStore('t', 'id')
    const rec = (id: number, n: number) => Object.freeze({ id, n }) as Rec
    store.apply({ type: 'record', table: 't', key: 1, before: undefined, after: rec(1, 1) })
    store.apply({ type: 'record', table: 't', key: 2, before: undefined, after: rec(2, 1) })
    const from = store.get(1) as Rec
    const out = store.shallowCopyOf(from)
    out.n = 2
    const after = Object.freeze(out) as Rec
    store.vouch(after, from)
    return { store, from, after, rec }
  }

  it('are the table shape fields while every record has that flat shape', () => {
    const { store, from, after } = vouchedUpdate()
    expect(store.vouchedFields(after, from)).toEqual(['id', 'n'])
  })

  it('are not given for another record than the one vouched for, nor from another record', () => {
    const { store, from, after } = vouchedUpdate()
    expect(store.vouchedFields(from, from)).toBeUndefined()
    expect(store.vouchedFields(after, store.get(2) as Rec)).toBeUndefined()
  })

  it('are not given once a record of another shape is stored', () => {
    const { store, from, after } = vouchedUpdate()
    store.apply({ type: 'record', table: 't', key: 3, before: undefined, after: Object.freeze({ id: 3, other: 1 }) as Rec })
    expect(store.vouchedFields(after, from)).toBeUndefined()
  })

  it('are not given once the table was emptied, even when it holds one flat shape again', () => {
    const { store, from, after, rec } = vouchedUpdate()
    store.clear()
    store.apply({ type: 'record', table: 't', key: 1, before: undefined, after: rec(1, 5) })
    expect(store.vouchedFields(after, from)).toBeUndefined()
  })
})

describe('indexes of an update vouched for with the fields it sets', () => {
  /** A store of `{ id, a, b }` indexed on `a` (hash) and `b` (sorted), records 1 and 2. */
  function indexed() {
    const store = new TableStore('t', 'id')
    store.addIndex({ field: 'a', type: 'hash', unique: false })
    store.addIndex({ field: 'b', type: 'sorted', unique: false })
    const rec = (id: number, a: number, b: number) => Object.freeze({ id, a, b, n: 0 }) as Rec
    store.apply({ type: 'record', table: 't', key: 1, before: undefined, after: rec(1, 10, 100) })
    store.apply({ type: 'record', table: 't', key: 2, before: undefined, after: rec(2, 20, 200) })
    return store
  }
  const keysOf = (store: TableStore, field: string, value: unknown) => {
    const out: unknown[] = []
    store.index(field)?.eq(value, out as never)
    return out
  }
  /** Record 1 updated to `changes`, vouched for with `sets` (what the merge set), then applied. */
  function update(store: TableStore, changes: Record<string, unknown>, sets: readonly unknown[]) {
    const from = store.get(1) as Rec
    const after = Object.freeze({ ...store.shallowCopyOf(from), ...changes }) as Rec
    store.vouch(after, from, sets)
    store.apply({ type: 'record', table: 't', key: 1, before: from, after })
  }

  it('moves the record in the index of a field it sets', () => {
    const store = indexed()
    update(store, { b: 150 }, ['b', 150])
    expect([keysOf(store, 'b', 150), keysOf(store, 'b', 100)]).toEqual([[1], []])
  })

  it('moves the record in the index of each field it sets, the second of two included', () => {
    const store = indexed()
    update(store, { n: 5, a: 11 }, ['n', 5, 'a', 11])
    expect([keysOf(store, 'a', 11), keysOf(store, 'a', 10), keysOf(store, 'b', 100)]).toEqual([[1], [], [1]])
  })

  it('moves the record in the indexes of each indexed field among three it sets, the last one included', () => {
    const store = indexed()
    update(store, { a: 12, n: 1, b: 120 }, ['a', 12, 'n', 1, 'b', 120])
    expect([keysOf(store, 'a', 12), keysOf(store, 'a', 10), keysOf(store, 'b', 120), keysOf(store, 'b', 100)]).toEqual([[1], [], [1], []])
  })

  it('moves the record in every index when the vouch does not say what it set', () => {
    const store = indexed()
    const from = store.get(1) as Rec
    const after = Object.freeze({ ...store.shallowCopyOf(from), a: 12, b: 120 }) as Rec
    store.vouch(after, from)
    store.apply({ type: 'record', table: 't', key: 1, before: from, after })
    expect([keysOf(store, 'a', 12), keysOf(store, 'b', 120)]).toEqual([[1], [1]])
  })

  it('moves a record in every index when its update is not the one vouched for', () => {
    const store = indexed()
    const from = store.get(1) as Rec
    // Vouched for a change of `n` alone, but another change of record 1 is applied.
    store.vouch(Object.freeze({ ...store.shallowCopyOf(from), n: 1 }) as Rec, from, ['n', 1])
    const after = Object.freeze({ ...store.shallowCopyOf(from), a: 13 }) as Rec
    store.apply({ type: 'record', table: 't', key: 1, before: from, after })
    expect(keysOf(store, 'a', 13)).toEqual([1])
  })
})

describe('an update by key of an indexed field', () => {
  it('is found by the new value and not the old one through a hash and a sorted index, in a local and a shared database', () => {
    const found = [false, true].map((shared) => {
      const db = new Database(shared ? { shared: true } : {})
      const t = db.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }, { field: 'city' }] })
      t.insert([
        { id: 1, age: 30, city: 'x', score: 0 },
        { id: 2, age: 40, city: 'y', score: 0 },
      ])
      t.update({ score: 1, age: 31 }, { id: 1 })
      t.update({ city: 'z' }, { id: 2 })
      const ids = (where: unknown) => t.select({ where: where as never }).map((r) => (r as { id: number }).id)
      const out = [ids({ age: 31 }), ids({ age: 30 }), ids({ city: 'z' }), ids({ city: 'y' }), ids(t.field('age').gt(35))]
      db.close()
      return out
    })
    expect(found).toEqual([
      [[1], [], [2], [], [2]],
      [[1], [], [2], [], [2]],
    ])
  })
})
