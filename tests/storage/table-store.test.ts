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
