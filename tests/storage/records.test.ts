import { describe, expect, it } from 'vitest'
import { Database } from '../../src/index'
import { Records } from '../../src/storage/records'
import type { Key, Rec } from '../../src/values/types'
import { ids } from '../support/helpers'

/** A table indexed on `team`, with the given keys inserted in this order (team alternating). */
function tableWith(keys: Key[]) {
  const t = new Database().createTable('t')
  t.createIndex('team', { type: 'hash' })
  t.createIndex('n', { type: 'sorted' })
  keys.forEach((id, n) => t.insert({ id, n, team: n % 2 === 0 ? 'a' : 'b' }))
  return t
}

const keysOf = (recs: Iterable<Rec>) => [...recs].map((r) => r['id'])

describe('records in insertion order whatever the keys', () => {
  it.each([
    ['rising integers', [1, 2, 3, 7, 8]],
    ['a smaller key after larger ones', [10, 20, 5, 30, 1]],
    ['strings after numbers', [1, 2, 'x', 3, 'a']],
    ['a key far past the others', [1, 2, 1e9, 3, 4]],
    ['zero, fractions and negative numbers', [0, 1.5, -3, 2, 0.5]],
  ])('with %s, scans, index hits and ranges come in insertion order', (_, keys) => {
    const t = tableWith(keys)
    expect(ids(t.select())).toEqual(keys)
    expect(ids(t.select({ where: { team: 'a' } }))).toEqual(keys.filter((_, n) => n % 2 === 0))
    expect(ids(t.select({ where: t.field('n').between(1, 3) }))).toEqual(keys.slice(1, 4))
    for (const key of keys) expect(t.get(key)?.id).toBe(key)
  })

  it('a record whose indexed value changes keeps its place among the index hits', () => {
    const t = tableWith([1, 'x', 2, 'y', 3])
    t.update({ team: 'a' }, { id: 'x' })
    expect(ids(t.select({ where: { team: 'a' } }))).toEqual([1, 'x', 2, 3])
  })

  it('a rolled-back delete puts the record back in its place after the keys stopped rising', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.createIndex('team', { type: 'hash' })
    t.insert([{ id: 5, team: 'a' }, { id: 9, team: 'a' }])
    expect(() =>
      db.transaction(() => {
        t.delete({ id: 5 })
        t.insert({ id: 'late', team: 'a' })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(ids(t.select())).toEqual([5, 9])
    expect(ids(t.select({ where: { team: 'a' } }))).toEqual([5, 9])
  })

  it('a range hitting hundreds of records gives them in insertion order when index order and key order differ', () => {
    const t = new Database().createTable('t')
    t.createIndex('n', { type: 'sorted' })
    // n falls as the key rises, and every third record moves to a value of its own.
    t.insert(Array.from({ length: 3_000 }, (_, i) => ({ id: i + 1, n: (3_000 - i) % 97 })))
    for (let id = 3; id <= 3_000; id += 3) t.update({ n: 200 + (id % 7) }, { id })
    const hits = t.select({ where: t.field('n').between(10, 210) })
    const expected = t.select().filter((r) => (r.n as number) >= 10 && (r.n as number) <= 210)
    expect(hits.length).toBeGreaterThan(2_000)
    expect(ids(hits)).toEqual(ids(expected))
  })

  it('rolled-back deletes put each record back in its place, whether its rank was its key or not', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.insert(Array.from({ length: 10_000 }, (_, i) => ({ id: i + 1 })))
    t.insert([{ id: 2.5 }, { id: 'x' }, { id: 20_000 }])
    const all = ids(t.select())
    expect(() =>
      db.transaction(() => {
        t.delete(t.field('id').lte(9_000))
        for (const id of ['x', 20_000, 9_500]) t.delete({ id })
        t.insert([{ id: 4 }, { id: 9_500 }])
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(ids(t.select())).toEqual(all)
    expect(t.insert({ name: 'auto' })).toBe(20_001)
  })

  it('deleting most records of a long table keeps the others, in order, and new keys go last', () => {
    const t = new Database().createTable('t')
    t.insert(Array.from({ length: 10_000 }, (_, i) => ({ id: i + 1 })))
    t.delete(t.field('id').lte(9_000))
    t.insert({ id: 3 })
    expect(t.count()).toBe(1_001)
    expect(ids(t.select({ limit: 2 }))).toEqual([9_001, 9_002])
    expect(ids(t.select()).at(-1)).toBe(3)
    expect(t.insert({ name: 'auto' })).toBe(10_001)
  })
})

describe('Records', () => {
  it('an iteration begun before the records move to a Map gives each record once, in order', () => {
    const records = new Records()
    for (let k = 1; k <= 5; k++) records.add(k, { id: k })
    const it = records.values()
    expect(it.next().value).toEqual({ id: 1 })
    expect(it.next().value).toEqual({ id: 2 })
    records.add('s', { id: 's' })
    records.remove(4)
    expect(keysOf({ [Symbol.iterator]: () => it })).toEqual([3, 5, 's'])
  })

  it('a key that is not stored is neither replaced nor removed', () => {
    const records = new Records()
    records.add(1, { id: 1 })
    expect([records.replace(2, { id: 2 }), records.remove(2), records.size]).toEqual([false, undefined, 1])
    records.add('s', { id: 's' })
    expect([records.replace(2, { id: 2 }), records.remove(2), records.size]).toEqual([false, undefined, 2])
  })

  it.each([
    ['rising integer keys (an array)', [1, 2, 3, 4, 5]],
    ['keys that stopped rising (a Map)', [1, 2, 'x', 4, 5]],
  ])('with %s, lists into a given longer array: the records in order, the length their count', (_, keys) => {
    const records = new Records()
    for (const key of keys) records.add(key, { id: key })
    records.remove(keys[2] as Key)
    const into = Array.from({ length: 9 }, (_, i) => ({ id: -i }))
    expect(records.list(into)).toBe(into)
    expect(keysOf(into)).toEqual([keys[0], keys[1], keys[3], keys[4]])
  })
})
