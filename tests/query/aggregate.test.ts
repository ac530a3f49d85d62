import { afterAll, describe, expect, it } from 'vitest'
import { Database, avg, count, max, min, sum } from '../../src/index'
import { DATABASE_KINDS, INDEX_KINDS, expectDictDBError, indexFields, openDatabase } from '../support/helpers'

const STAFF = [
  { id: 1, dept: 'IT', level: 'senior', age: 40, salary: 100, born: new Date('1985-01-01'), name: 'Ada' },
  { id: 2, dept: 'IT', level: 'junior', age: 25, salary: 60, born: new Date('2000-05-05'), name: 'Bob' },
  { id: 3, dept: 'HR', level: 'senior', age: 50, salary: null, name: 'Cy' },
  { id: 4, dept: 'HR', level: 'junior', name: 'Di' },
  { id: 5, dept: null, level: 'junior', age: 31, salary: 40, name: 'Ed' },
  { id: 6, level: 'senior', age: 30, salary: 80, name: 'Flo' },
]

describe.each(DATABASE_KINDS)('aggregate on a %s database', (dbKind) => {
  describe.each(INDEX_KINDS)('with %s index on dept and age', (kind) => {
    const db = openDatabase(dbKind)
    afterAll(() => db.close())
    const t = db.createTable('staff')
    indexFields(t, kind, ['dept', 'age'])
    t.insert(STAFF)

    it('without groupBy returns one object with every aggregation', () => {
      expect(t.aggregate({ n: count(), avgAge: avg('age') })).toEqual({ n: 6, avgAge: 35.2 })
    })

    it('count() counts records and count(field) counts non-null values', () => {
      expect(t.aggregate({ all: count(), withSalary: count('salary'), withDept: count('dept') })).toEqual({ all: 6, withSalary: 4, withDept: 4 })
    })

    it('sum, avg, min and max skip null and missing values', () => {
      expect(t.aggregate({ total: sum('salary'), mean: avg('salary'), low: min('salary'), high: max('salary') })).toEqual({
        total: 280,
        mean: 70,
        low: 40,
        high: 100,
      })
    })

    it('sum, avg, min and max give null over no values', () => {
      expect(t.aggregate({ s: sum('bonus'), a: avg('bonus'), lo: min('bonus'), hi: max('bonus'), c: count('bonus') })).toEqual({
        s: null,
        a: null,
        lo: null,
        hi: null,
        c: 0,
      })
    })

    it('aggregations over an empty selection give 0 counts and null values', () => {
      expect(t.aggregate({ n: count(), s: sum('age'), m: max('age') }, { where: { dept: 'nope' } })).toEqual({ n: 0, s: null, m: null })
    })

    it('min and max work on strings and dates', () => {
      expect(t.aggregate({ first: min('name'), last: max('name'), oldest: min('born'), youngest: max('born') })).toEqual({
        first: 'Ada',
        last: 'Flo',
        oldest: new Date('1985-01-01'),
        youngest: new Date('2000-05-05'),
      })
    })

    it('where restricts the aggregated records', () => {
      expect(t.aggregate({ n: count(), total: sum('salary') }, { where: t.field('age').gte(30) })).toEqual({ n: 4, total: 220 })
      expect(t.aggregate({ n: count() }, { where: { dept: 'IT' } })).toEqual({ n: 2 })
    })

    it('groupBy one field returns one object per group carrying the group field', () => {
      const groups = t.aggregate({ n: count(), total: sum('salary') }, { groupBy: 'dept', where: t.field('dept').isNotNull() })
      expect(groups).toHaveLength(2)
      expect(groups).toEqual(
        expect.arrayContaining([
          { dept: 'IT', n: 2, total: 160 },
          { dept: 'HR', n: 2, total: null },
        ]),
      )
    })

    it('groupBy puts null and missing values into one group keyed null', () => {
      const groups = t.aggregate({ n: count(), ids: max('id') }, { groupBy: 'dept' }) as Record<string, unknown>[]
      expect(groups).toHaveLength(3)
      expect(groups.find((g) => g.dept === null)).toEqual({ dept: null, n: 2, ids: 6 })
    })

    it('groupBy several fields groups by their combination', () => {
      const groups = t.aggregate({ n: count(), age: avg('age') }, { groupBy: ['dept', 'level'] })
      expect(groups).toHaveLength(6)
      expect(groups).toEqual(
        expect.arrayContaining([
          { dept: 'IT', level: 'senior', n: 1, age: 40 },
          { dept: 'IT', level: 'junior', n: 1, age: 25 },
          { dept: 'HR', level: 'senior', n: 1, age: 50 },
          { dept: 'HR', level: 'junior', n: 1, age: null },
          { dept: null, level: 'junior', n: 1, age: 31 },
          { dept: null, level: 'senior', n: 1, age: 30 },
        ]),
      )
    })

    it('groupBy over no records returns []', () => {
      expect(t.aggregate({ n: count() }, { groupBy: 'dept', where: { dept: 'nope' } })).toEqual([])
    })

    it('aggregate results are copies', () => {
      const result = t.aggregate({ oldest: min('born') }) as { oldest: Date }
      result.oldest.setFullYear(1900)
      expect(t.aggregate({ oldest: min('born') })).toEqual({ oldest: new Date('1985-01-01') })
    })
  })
})

describe('aggregate of bigints', () => {
  it('sum of bigints is a bigint, min and max keep bigints', () => {
    const t = new Database().createTable('ledger')
    t.insert([{ amount: 9007199254740993n }, { amount: 7n }, { amount: null }])
    expect(t.aggregate({ s: sum('amount'), lo: min('amount'), hi: max('amount'), n: count('amount') })).toEqual({
      s: 9007199254741000n,
      lo: 7n,
      hi: 9007199254740993n,
      n: 2,
    })
  })

  it('sum of a field mixing numbers and bigints is an error naming the field', () => {
    const t = new Database().createTable('mixed')
    t.insert([{ amount: 1 }, { amount: 2n }])
    expectDictDBError(() => t.aggregate({ s: sum('amount') }), 'InvalidArgumentError', /amount/)
  })
})

describe('aggregate names', () => {
  it('an aggregation named like a groupBy field is an error, not a group field overwritten', () => {
    const db = new Database()
    const t = db.createTable('staff')
    t.insert(STAFF)
    expectDictDBError(() => t.aggregate({ dept: count() }, { groupBy: 'dept' }), 'InvalidArgumentError', /dept/)
  })

  it('an aggregation named __proto__ is an error, not a result without it', () => {
    const db = new Database()
    const t = db.createTable('staff')
    t.insert(STAFF)
    expectDictDBError(() => t.aggregate(JSON.parse('{"__proto__": {"fn": "count"}}')), 'InvalidArgumentError', /__proto__/)
  })

  it('a groupBy on __proto__ is an error, not groups without their field', () => {
    const db = new Database()
    const t = db.createTable('staff')
    t.insert(STAFF)
    expectDictDBError(() => t.aggregate({ n: count() }, { groupBy: '__proto__' }), 'InvalidArgumentError', /__proto__/)
  })
})
