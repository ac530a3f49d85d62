import { describe, expect, it } from 'vitest'
import { Database, and, or } from '../../src/index'

function setup() {
  const db = new Database()
  const t = db.createTable('users', { indexes: [{ field: 'city' }, { field: 'age', type: 'sorted' }] })
  t.insert([
    { id: 1, city: 'Paris', age: 30, name: 'a' },
    { id: 2, city: 'Lyon', age: 40, name: 'b' },
    { id: 3, city: 'Paris', age: 50, name: 'c' },
    { id: 4, city: 'Nice', age: 20, name: 'd' },
  ])
  return t
}

describe('explain', () => {
  it('a plain-object where on the primary key is a primary-key lookup of one candidate', () => {
    const t = setup()
    expect(t.explain({ id: 3 })).toEqual({ strategy: 'primaryKey', field: 'id', estimatedCandidates: 1, totalRecords: 4 })
  })

  it("field('id').eq(k) is a primary-key lookup, never a scan", () => {
    const t = setup()
    expect(t.explain(t.field('id').eq(2))).toMatchObject({ strategy: 'primaryKey', field: 'id', estimatedCandidates: 1 })
  })

  it('a primary-key lookup of a missing key has no candidates', () => {
    const t = setup()
    expect(t.explain({ id: 99 })).toMatchObject({ strategy: 'primaryKey', estimatedCandidates: 0 })
  })

  it('isIn on the primary key is a primary-key lookup', () => {
    const t = setup()
    expect(t.explain(t.field('id').isIn([1, 2, 99]))).toMatchObject({ strategy: 'primaryKey', estimatedCandidates: 2 })
  })

  it('a custom primary key is looked up too', () => {
    const db = new Database()
    const t = db.createTable('codes', { primaryKey: 'code' })
    t.insert([{ code: 'a' }, { code: 'b' }])
    expect(t.explain({ code: 'a' })).toMatchObject({ strategy: 'primaryKey', field: 'code', estimatedCandidates: 1 })
  })

  it('eq on a hash-indexed field uses the hash index', () => {
    const t = setup()
    expect(t.explain(t.field('city').eq('Paris'))).toEqual({ strategy: 'index', field: 'city', indexType: 'hash', estimatedCandidates: 2, totalRecords: 4 })
  })

  it('isIn on a hash-indexed field uses the hash index', () => {
    const t = setup()
    expect(t.explain(t.field('city').isIn(['Lyon', 'Nice']))).toMatchObject({ strategy: 'index', field: 'city', indexType: 'hash', estimatedCandidates: 2 })
  })

  it('a range on a sorted-indexed field uses the sorted index', () => {
    const t = setup()
    expect(t.explain(t.field('age').gte(40))).toMatchObject({ strategy: 'index', field: 'age', indexType: 'sorted', estimatedCandidates: 2 })
    expect(t.explain(t.field('age').between(25, 45))).toMatchObject({ strategy: 'index', indexType: 'sorted', estimatedCandidates: 2 })
    expect(t.explain(t.field('age').lt(25))).toMatchObject({ strategy: 'index', indexType: 'sorted', estimatedCandidates: 1 })
  })

  it('eq on a sorted-indexed field uses the sorted index', () => {
    const t = setup()
    expect(t.explain({ age: 30 })).toMatchObject({ strategy: 'index', field: 'age', indexType: 'sorted', estimatedCandidates: 1 })
  })

  it('a range on a hash-indexed field is a scan', () => {
    const t = setup()
    expect(t.explain(t.field('city').gt('M'))).toEqual({ strategy: 'scan', estimatedCandidates: 4, totalRecords: 4 })
  })

  it('a condition on an unindexed field is a full scan', () => {
    const t = setup()
    expect(t.explain({ name: 'a' })).toEqual({ strategy: 'scan', estimatedCandidates: 4, totalRecords: 4 })
    expect(t.explain(t.field('name').like('a%'))).toMatchObject({ strategy: 'scan' })
  })

  it('no where is a full scan', () => {
    const t = setup()
    expect(t.explain()).toEqual({ strategy: 'scan', estimatedCandidates: 4, totalRecords: 4 })
  })

  it('a predicate where is a full scan', () => {
    const t = setup()
    expect(t.explain(() => true)).toMatchObject({ strategy: 'scan' })
  })

  it('under an and, the most selective indexed condition is used', () => {
    const t = setup()
    expect(t.explain(and(t.field('city').eq('Paris'), t.field('age').gte(50)))).toMatchObject({ field: 'age', estimatedCandidates: 1 })
    expect(t.explain({ city: 'Nice', age: 20, name: 'd' })).toMatchObject({ strategy: 'index', estimatedCandidates: 1 })
    expect(t.explain(and(t.field('name').eq('a'), t.field('id').eq(1)))).toMatchObject({ strategy: 'primaryKey' })
  })

  it('an or of indexed conditions is a union of their candidates', () => {
    const t = setup()
    expect(t.explain(or(t.field('city').eq('Lyon'), t.field('age').gt(45)))).toMatchObject({ strategy: 'union', estimatedCandidates: 2 })
  })

  it('an or with an unindexed branch is a full scan', () => {
    const t = setup()
    expect(t.explain(or(t.field('city').eq('Lyon'), t.field('name').eq('a')))).toMatchObject({ strategy: 'scan' })
  })
})

describe('an index that answers a condition alone', () => {
  function mixed() {
    const t = new Database().createTable('t', { indexes: [{ field: 'v' }, { field: 'n', type: 'sorted' }] })
    t.insert([
      { id: 1, v: 1, n: 5 },
      { id: 2, v: '1', n: '5' },
      { id: 3, v: true, n: 7 },
      { id: 4, v: 1, n: new Date(5) },
      { id: 5, v: null, n: 6 },
      { id: 6, n: 5n },
    ])
    return t
  }

  it('equality to a number, a string or a boolean gives only records of that exact value', () => {
    const t = mixed()
    expect([1, '1', true].map((v) => t.select({ where: { v } }).map((r) => r.id))).toEqual([[1, 4], [2], [3]])
  })

  it('a numeric range on a sorted index gives only numbers in range, whatever else the field holds', () => {
    const t = mixed()
    expect(t.select({ where: t.field('n').between(5, 6) }).map((r) => r.id)).toEqual([1, 5])
    expect(t.select({ where: t.field('n').gte(6) }).map((r) => r.id)).toEqual([3, 5])
  })

  it('a limit keeps the first matches in insertion order', () => {
    const t = mixed()
    t.update({ n: 6 }, { id: 1 })
    expect(t.select({ where: t.field('n').lte(7), limit: 2 }).map((r) => r.id)).toEqual([1, 3])
  })
})
