import { describe, expectTypeOf, it } from 'vitest'
import { Database, avg, count, increment, max, min, sum, type Key, type Table, type UpsertResult } from '../../src/index'

// Type tests: checked by `npm run typecheck` (tsconfig.test.json) and by `npm test` (vitest's
// typecheck mode, vitest.config.ts). Nothing here runs; every `@ts-expect-error` must be an
// error and every expectTypeOf must hold, or the check fails.

interface User {
  id?: number
  name: string
  age?: number | null
  city?: string
  tags?: string[]
  born?: Date
}

const db = new Database()
const users = db.createTable<User>('users')

describe('field names', () => {
  it('a field name that is not in T is a compile error in field, orderBy, columns and where', () => {
    // @ts-expect-error: no such field
    users.field('nope')
    // @ts-expect-error: no such field
    users.select({ orderBy: 'nope' })
    // @ts-expect-error: no such field, descending
    users.select({ orderBy: ['-nope'] })
    // @ts-expect-error: no such column
    users.select({ columns: ['nope'] })
    // @ts-expect-error: no such field behind an alias
    users.select({ columns: { who: 'nope' } })
    // @ts-expect-error: no such field in a plain-object where
    users.select({ where: { nope: 1 } })
    // @ts-expect-error: misspelled option (also refused at run time)
    users.select({ orderby: 'name' })
    users.select({ where: { name: 'Ada' }, orderBy: ['-age', 'name'], columns: ['name'] })
  })

  it("orderBy: 'age desc' is a compile error (write '-age')", () => {
    // @ts-expect-error: SQL direction words are not part of a field name
    users.select({ orderBy: 'age desc' })
    users.select({ orderBy: '-age' })
  })

  it('an aggregation over a field that is not in T is a compile error, and so is groupBy', () => {
    // @ts-expect-error: avg of a misspelled field
    users.aggregate({ a: avg('agee') })
    // @ts-expect-error: groupBy a misspelled field
    users.aggregate({ n: count() }, { groupBy: 'cty' })
    users.aggregate({ n: count('city'), s: sum('age'), lo: min('born'), hi: max('name') })
  })
})

describe('values', () => {
  it('a wrong value type in a plain-object where or in insert is a compile error', () => {
    // @ts-expect-error: age is a number
    users.select({ where: { age: 'old' } })
    // @ts-expect-error: name is required
    users.insert({ age: 3 })
  })

  it('every comparison of a field refuses a value of another type', () => {
    const age = users.field('age')
    // @ts-expect-error: age is a number
    age.eq('forty')
    // @ts-expect-error: age is a number
    age.ne('forty')
    // @ts-expect-error: age is a number
    age.gt('forty')
    // @ts-expect-error: age is a number
    age.lte('forty')
    // @ts-expect-error: age is a number
    age.isIn([1, 'forty'])
    // @ts-expect-error: age is a number
    age.between(1, 'forty')
    // @ts-expect-error: tags hold strings
    users.field('tags').contains(5)
    // @ts-expect-error: born is a Date
    users.field('born').gt('2020-01-01')
    age.eq(40)
    age.eq(null)
    age.isIn([1, null])
    users.field('tags').contains('x')
    users.field('born').gt(new Date(0))
  })

  it('increment() is for number and bigint fields only', () => {
    users.update({ age: increment(1) })
    // @ts-expect-error: name is a string
    users.update({ name: increment(1) })
  })
})

describe('return types', () => {
  it('the key type comes from T: insert returns number for an `id?: number` table', () => {
    expectTypeOf(users.insert({ name: 'Bob' })).toEqualTypeOf<number>()
    expectTypeOf(users.insert([{ name: 'Bob' }])).toEqualTypeOf<number[]>()
    expectTypeOf(users.upsert({ id: 1, name: 'Ada' })).toEqualTypeOf<UpsertResult<number>>()
    expectTypeOf(users.copy()).toEqualTypeOf<Map<number, User>>()
    // The README's pattern compiles once the table is typed.
    const id = users.insert({ name: 'Ada' })
    users.update({ age: increment(1) }, { id })
    // @ts-expect-error: keys of this table are numbers
    users.get('1')
  })

  it('the key type follows the primaryKey option', () => {
    const products = db.createTable<{ sku: string; price: number }, 'sku'>('products', { primaryKey: 'sku' })
    expectTypeOf(products.insert({ sku: 'A1', price: 3 })).toEqualTypeOf<string>()
    // @ts-expect-error: with an explicit record type, the key field is named in the type too
    db.createTable<{ sku: string }>('p2', { primaryKey: 'sku' })
    const loose = db.createTable('loose', { primaryKey: 'code' })
    expectTypeOf(loose.insert({ code: 'x' })).toEqualTypeOf<Key>()
  })

  it('an untyped table has string | number keys', () => {
    const t = db.createTable('t')
    expectTypeOf(t.insert({ a: 1 })).toEqualTypeOf<Key>()
  })

  it('select returns T, or with columns the picked (or aliased) fields', () => {
    expectTypeOf(users.select()).toEqualTypeOf<User[]>()
    expectTypeOf(users.select({ where: { city: 'Paris' } })).toEqualTypeOf<User[]>()
    expectTypeOf(users.select({ columns: ['name', 'age'] })).toEqualTypeOf<Array<{ name: string; age: number | null }>>()
    expectTypeOf(users.select({ columns: { who: 'name', town: 'city' } })).toEqualTypeOf<Array<{ who: string; town: string | null }>>()
  })

  it('aggregate returns one typed row without groupBy, typed rows with it', () => {
    const one = users.aggregate({ n: count(), avgAge: avg('age'), total: sum('age'), youngest: min('age'), first: min('born') })
    expectTypeOf(one).toEqualTypeOf<{ n: number; avgAge: number | null; total: number | null; youngest: number | null; first: Date | null }>()
    const groups = users.aggregate({ n: count() }, { groupBy: 'city' })
    expectTypeOf(groups).toEqualTypeOf<Array<{ city: string | null } & { n: number }>>()
    expectTypeOf(users.aggregate({ n: count() }, { groupBy: ['city', 'age'] })[0]!.age).toEqualTypeOf<number | null>()
  })

  it('other methods return precise types', () => {
    expectTypeOf(users.get(1)).toEqualTypeOf<User | undefined>()
    expectTypeOf(users.update({ age: 1 })).toEqualTypeOf<number>()
    expectTypeOf(users.getOrCreate({ name: 'Ada' }).record).toEqualTypeOf<User>()
    expectTypeOf(db.getTable<User>('users')).toEqualTypeOf<Table<User, 'id'>>()
  })
})

describe('transactions', () => {
  it('an async transaction body is a compile error', () => {
    // @ts-expect-error: transaction() runs fn synchronously
    db.transaction(async () => users.insert({ name: 'x' }))
    // @ts-expect-error: so does transactionAsync() (it waits for the commit, not for fn)
    void db.transactionAsync(async () => 1)
    // @ts-expect-error: a promise returned by a plain function is refused as well
    db.transaction(() => Promise.resolve(1))
    expectTypeOf(db.transaction(() => users.insert({ name: 'x' }))).toEqualTypeOf<number>()
    expectTypeOf(db.transactionAsync(() => 1)).toEqualTypeOf<Promise<number>>()
  })
})
