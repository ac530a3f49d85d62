import { describe, expect, it } from 'vitest'
import type { FieldPatch } from '../../src/storage/change'
import { TableStore } from '../../src/storage/table-store'
import type { Key, Rec } from '../../src/values/types'

const patch = (...pairs: unknown[]): FieldPatch => ({
  names: pairs.filter((_, i) => i % 2 === 0) as string[],
  values: pairs.filter((_, i) => i % 2 === 1),
  count: pairs.length / 2,
})

/** A store of flat records `{ id, team, n, s }` (keys 1 to 3), with a hash index on `team` and a sorted one on `n`. */
function flatStore(): TableStore {
  const store = new TableStore('t', 'id')
  store.addIndex({ field: 'team', type: 'hash', unique: false })
  store.addIndex({ field: 'n', type: 'sorted', unique: false })
  for (const [id, team] of [[1, 'a'], [2, 'a'], [3, 'b']] as const) {
    store.apply({ type: 'record', table: 't', key: id, before: undefined, after: Object.freeze({ id, team, n: id, s: 'x' }) })
  }
  return store
}

/** Applies `p` to record `key` as a shared log's catch-up does; returns the stored result. */
function applied(store: TableStore, key: Key, p: FieldPatch): Rec {
  store.applyPatch(key, store.get(key) as Rec, p)
  return store.get(key) as Rec
}

const keysOf = (store: TableStore, field: string, value: unknown): Key[] => {
  const out: Key[] = []
  store.index(field)?.eq(value, out)
  return out.sort()
}

describe("a patch from the shared log applied to a stored record of the table's flat shape", () => {
  it('stores a new frozen record with the patched fields set and the others kept, in their order', () => {
    const store = flatStore()
    const before = store.get(2)
    const out = applied(store, 2, patch('s', 'y', 'n', 7))
    expect(Object.entries(out)).toEqual([['id', 2], ['team', 'a'], ['n', 7], ['s', 'y']])
    expect(Object.isFrozen(out)).toBe(true)
    expect(out).not.toBe(before)
    expect(before).toEqual({ id: 2, team: 'a', n: 2, s: 'x' })
  })

  it('gives each list of patched fields its own result when the lists alternate', () => {
    const store = flatStore()
    applied(store, 1, patch('n', 10))
    applied(store, 1, patch('s', 'z'))
    applied(store, 2, patch('n', 20))
    applied(store, 2, patch('n', 21, 's', 'w'))
    applied(store, 3, patch('s', 'v', 'n', 30))
    expect([store.get(1), store.get(2), store.get(3)]).toEqual([
      { id: 1, team: 'a', n: 10, s: 'z' },
      { id: 2, team: 'a', n: 21, s: 'w' },
      { id: 3, team: 'b', n: 30, s: 'v' },
    ])
  })

  it('moves the record in the index of a patched field', () => {
    const store = flatStore()
    applied(store, 2, patch('team', 'b'))
    expect(keysOf(store, 'team', 'a')).toEqual([1])
    expect(keysOf(store, 'team', 'b')).toEqual([2, 3])
  })

  it('leaves the record where it is in the indexes of the fields it does not set', () => {
    const store = flatStore()
    applied(store, 2, patch('s', 'y'))
    expect(keysOf(store, 'team', 'a')).toEqual([1, 2])
    expect(keysOf(store, 'n', 2)).toEqual([2])
  })

  it('keeps copies of the records shallow and whole, and a later vouched update works from it', () => {
    const store = flatStore()
    applied(store, 2, patch('n', 5))
    const copy = store.copyOf(store.get(2) as Rec)
    copy.n = 6
    expect(store.get(2)).toEqual({ id: 2, team: 'a', n: 5, s: 'x' })
  })
})

describe('a patch from the shared log that the flat shape does not fit', () => {
  it('setting a field to an object: copies of the record are deep, free to change', () => {
    const store = flatStore()
    applied(store, 2, patch('s', Object.freeze({ a: 1 })))
    const copy = store.copyOf(store.get(2) as Rec) as { s: { a: number } }
    copy.s.a = 2
    expect(store.get(2)).toEqual({ id: 2, team: 'a', n: 2, s: { a: 1 } })
  })

  it('adding a field: the record has it last, and copies of it have it too', () => {
    const store = flatStore()
    const out = applied(store, 3, patch('extra', true, 'n', 9))
    expect(Object.entries(out)).toEqual([['id', 3], ['team', 'b'], ['n', 9], ['s', 'x'], ['extra', true]])
    expect(Object.isFrozen(out)).toBe(true)
    expect(store.copyOf(out)).toEqual({ id: 3, team: 'b', n: 9, s: 'x', extra: true })
  })

  it('naming a field twice: the last value stands', () => {
    const store = flatStore()
    expect(applied(store, 1, patch('n', 4, 'n', 8))).toEqual({ id: 1, team: 'a', n: 8, s: 'x' })
  })

  it('in a table of records of several shapes: the record is patched all the same, and indexed', () => {
    const store = flatStore()
    store.apply({ type: 'record', table: 't', key: 4, before: undefined, after: Object.freeze({ id: 4, team: 'c' }) })
    expect(applied(store, 1, patch('team', 'c'))).toEqual({ id: 1, team: 'c', n: 1, s: 'x' })
    expect(keysOf(store, 'team', 'c')).toEqual([1, 4])
  })
})

describe('a patch of one field from the shared log applied by field (no patch arrays)', () => {
  /** Applies `field` = `value` to record `key` by `applyField`, and the same patch by `applyPatch` to a second store. */
  function both(key: Key, field: string, value: unknown, setUp: (store: TableStore) => void = () => {}): [Rec, Rec] {
    const byField = flatStore()
    const byPatch = flatStore()
    setUp(byField)
    setUp(byPatch)
    byField.applyField(key, byField.get(key) as Rec, field, value)
    return [byField.get(key) as Rec, applied(byPatch, key, patch(field, value))]
  }

  it('stores a new frozen record with the field set and the others kept, in their order', () => {
    const [out, expected] = both(2, 's', 'y')
    expect(Object.entries(out)).toEqual([['id', 2], ['team', 'a'], ['n', 2], ['s', 'y']])
    expect(Object.entries(out)).toEqual(Object.entries(expected))
    expect(Object.isFrozen(out)).toBe(true)
  })

  it('gives each field its own result when fields alternate', () => {
    const store = flatStore()
    for (let i = 0; i < 3; i++) {
      store.applyField(1, store.get(1) as Rec, 'n', 10 + i)
      store.applyField(1, store.get(1) as Rec, 's', `s${i}`)
    }
    expect(Object.entries(store.get(1) as Rec)).toEqual([['id', 1], ['team', 'a'], ['n', 12], ['s', 's2']])
  })

  it('moves the record in the index of the field it sets, and in no other', () => {
    const store = flatStore()
    store.applyField(3, store.get(3) as Rec, 'team', 'a')
    expect([keysOf(store, 'team', 'a'), keysOf(store, 'team', 'b'), keysOf(store, 'n', 3)]).toEqual([[1, 2, 3], [], [3]])
    store.applyField(3, store.get(3) as Rec, 'n', 9)
    expect([keysOf(store, 'n', 9), keysOf(store, 'n', 3), keysOf(store, 'team', 'a')]).toEqual([[3], [], [1, 2, 3]])
  })

  it('makes the record applyPatch makes when the flat shape does not fit: an object value, a new field, several shapes', () => {
    const cases: Array<[string, unknown, ((store: TableStore) => void)?]> = [
      ['s', Object.freeze({ deep: 1 })],
      ['extra', 5],
      ['n', 4, (store) => store.apply({ type: 'record', table: 't', key: 9, before: undefined, after: Object.freeze({ id: 9, other: true }) })],
    ]
    for (const [field, value, setUp] of cases) {
      const [out, expected] = both(1, field, value, setUp)
      expect(Object.entries(out)).toEqual(Object.entries(expected))
      expect(Object.isFrozen(out)).toBe(true)
    }
  })
})
