import { describe, expect, it } from 'vitest'
import { Database, InvalidArgumentError } from '../src/index'
import { expectDictDBError, snapshot, thrown } from './support/helpers'

function setup() {
  const db = new Database()
  const t = db.createTable('things', { indexes: [{ field: 'v' }] })
  t.insert({ id: 1, v: 'kept' })
  return { db, t }
}

class Point {
  constructor(
    public x = 1,
    public y = 2,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y)
  }
}

function cyclic(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 1 }
  o.self = o
  return o
}

function deepCycle(): Record<string, unknown> {
  const inner: Record<string, unknown> = { n: 1 }
  const o = { list: [inner] }
  inner.back = o
  return o
}

describe('storable values', () => {
  it('strings, numbers, booleans, null, arrays and plain objects round-trip', () => {
    const { t } = setup()
    const value = { s: 'x', n: -1.5, z: 0, b: false, nul: null, arr: [1, 'a', [true], { k: null }], obj: { deep: { deeper: [] } } }
    const id = t.insert(value)
    expect(t.get(id)).toEqual({ id, ...value })
  })

  it('a Date is stored and comes back as an equal Date', () => {
    const { t } = setup()
    const when = new Date('2024-02-29T12:34:56.789Z')
    const id = t.insert({ when, nested: { at: [when] } })
    const got = t.get(id) as { when: Date; nested: { at: Date[] } }
    expect(got.when).toBeInstanceOf(Date)
    expect(got.when.getTime()).toBe(when.getTime())
    expect(got.nested.at[0]).toBeInstanceOf(Date)
    expect(got.when).not.toBe(when)
  })

  it('a bigint is stored exactly and comes back as a bigint', () => {
    const { t } = setup()
    const id = t.insert({ big: 123456789012345678901234567890n, neg: -1n })
    expect(t.get(id)).toEqual({ id, big: 123456789012345678901234567890n, neg: -1n })
  })

  it('an object made with Object.create(null) is a plain object and is stored', () => {
    const { t } = setup()
    const bare = Object.create(null) as Record<string, unknown>
    bare.a = 1
    const id = t.insert({ bare })
    expect(t.get(id)?.bare).toEqual({ a: 1 })
  })

  it('a field set to undefined is not stored', () => {
    const { t } = setup()
    const id = t.insert({ a: 1, b: undefined })
    expect(t.get(id)).toEqual({ id, a: 1 })
    expect(Object.keys(t.get(id) as object)).toEqual(['id', 'a'])
  })

  it('every field is stored whatever the field names of records inserted before (shapes whose name lists join alike)', () => {
    const { t } = setup()
    const inputs = [{}, { '': 5 }, { 'a\u0000b': 1 }, { a: 2, b: 3 }, { id: 90, 'x\u0000y': 1 }, { id: 91, x: 1, y: 2 }]
    const ids = inputs.map((input) => t.insert({ ...input }))
    ids.forEach((id, i) => expect(t.get(id)).toEqual({ id, ...inputs[i] }))
  })

  it('a record comes back with its own fields after one with a field named like an Object method (toString)', () => {
    const { t } = setup()
    const first = t.insert({ a: 1, toString: 'x' })
    expect(t.get(first)).toEqual({ id: first, a: 1, toString: 'x' })
    const second = t.insert({ a: 1, b: 2 })
    expect(t.get(second)).toEqual({ id: second, a: 1, b: 2 })
    const expected: object[] = [
      { id: first, a: 1, toString: 'x' },
      { id: second, a: 1, b: 2 },
    ]
    expect(t.select({ where: { a: 1 } })).toEqual(expected)
  })

  it('a record keeps the order of its fields, whatever the order of the records before it', () => {
    const { t } = setup()
    t.insert({ id: 101, a: 1, b: 2 })
    t.insert({ id: 102, b: 3, a: 4 })
    expect(Object.keys(t.get(102) ?? {})).toEqual(['id', 'b', 'a'])
    expect(t.select().filter((r) => Number(r.id) > 100).map((r) => Object.keys(r))).toEqual([['id', 'a', 'b'], ['id', 'b', 'a']])
    t.update({ a: 5 }, { id: 102 })
    expect(JSON.stringify(t.get(102))).toBe('{"id":102,"b":3,"a":5}')
  })

  it('-0 and 0 are stored', () => {
    const { t } = setup()
    const id = t.insert({ z: -0 })
    expect(t.count({ z: 0 })).toBe(1)
    expect(id).toBe(2)
  })
})

describe.each([
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['a class instance with methods', new Point()],
  ['a Map', new Map([[1, 2]])],
  ['a Set', new Set([1])],
  ['a RegExp', /x/],
  ['an Error', new Error('e')],
  ['a typed array', new Uint8Array(2)],
  ['a boxed string', Object('s')],
  ['a promise', Promise.resolve(1)],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['an invalid Date', new Date('nope')],
  ['undefined inside an array', [1, undefined]],
  ['a hole inside an array', [1, , 3]], // eslint-disable-line no-sparse-arrays
  ['a cycle', cyclic()],
  ['a cycle through an array', deepCycle()],
] as const)('%s', (what, bad) => {
  it(`${what} is refused at insert with InvalidArgumentError, database unchanged`, () => {
    const { db, t } = setup()
    const before = snapshot(db)
    const error = expectDictDBError(() => t.insert({ ok: 1, bad }), 'InvalidArgumentError', /bad/)
    expect(error.message).toMatch(/Cannot store/)
    expect(snapshot(db)).toEqual(before)
  })

  it(`${what} nested in an object is refused at insert, naming its path`, () => {
    const { db, t } = setup()
    const before = snapshot(db)
    expectDictDBError(() => t.insert({ outer: { list: [{ bad }] } }), 'InvalidArgumentError', /outer\.list\[0\]\.bad/)
    expect(snapshot(db)).toEqual(before)
  })

  it(`${what} is refused in update, upsert and getOrCreate, database unchanged`, () => {
    const { db, t } = setup()
    const before = snapshot(db)
    expect(thrown(() => t.update({ v: bad as never }, { id: 1 }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => t.upsert({ id: 1, v: bad }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => t.upsert({ id: 2, v: bad }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => t.getOrCreate({ v: 'new' }, { extra: bad }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => t.insert([{ v: 'fine' }, { v: bad }]))).toBeInstanceOf(InvalidArgumentError)
    expect(snapshot(db)).toEqual(before)
  })

  it(`${what} is refused as a condition operand`, () => {
    const { t } = setup()
    expect(thrown(() => t.field('v').eq(bad))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => t.select({ where: { v: bad as never } }))).toBeInstanceOf(InvalidArgumentError)
  })
})

describe('unsafe field names', () => {
  it('a __proto__ field (as JSON.parse makes it) is refused, database unchanged', () => {
    const { db, t } = setup()
    const before = snapshot(db)
    expectDictDBError(() => t.insert(JSON.parse('{"__proto__": {"polluted": true}}')), 'InvalidArgumentError', /__proto__/)
    expectDictDBError(() => t.insert({ nested: JSON.parse('{"__proto__": 1}') }), 'InvalidArgumentError', /__proto__/)
    expect(snapshot(db)).toEqual(before)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
