import { describe, expect, expectTypeOf, it } from 'vitest'
import { Database, type Key, type UpsertResult } from '../src/index'

interface User {
  id?: number
  name: string
  age?: number | null
  city?: string
}

// Checked by `tsc -p tsconfig.test.json`: each @ts-expect-error must be a compile error.
describe('public types of a typed table', () => {
  const db = new Database()
  const users = db.createTable<User>('users')
  users.insert({ name: 'Ada', age: 36 })

  it('a field name that is not in T is a compile error in field, orderBy, columns and where', () => {
    // @ts-expect-error: no such field
    expect(() => users.field('nope')).not.toThrow()
    // @ts-expect-error: no such field
    users.select({ orderBy: 'nope' })
    // @ts-expect-error: no such field, descending
    users.select({ orderBy: ['-nope'] })
    // @ts-expect-error: no such column
    users.select({ columns: ['nope'] })
    // @ts-expect-error: no such field in a plain-object where
    users.select({ where: { nope: 1 } })
    // @ts-expect-error: misspelled option (also refused at run time)
    expect(() => users.select({ orderby: 'name' })).toThrow(/orderBy/)
    users.select({ where: { name: 'Ada' }, orderBy: ['-age', 'name'], columns: ['name'] })
  })

  it('a wrong value type in a plain-object where or in insert is a compile error', () => {
    // @ts-expect-error: age is a number
    users.select({ where: { age: 'old' } })
    // @ts-expect-error: name is required
    expect(() => users.insert({ age: 3 })).not.toThrow()
  })

  it('methods return precise types', () => {
    expectTypeOf(users.insert({ name: 'Bob' })).toEqualTypeOf<Key>()
    expectTypeOf(users.insert([{ name: 'Bob' }])).toEqualTypeOf<Key[]>()
    expectTypeOf(users.get(1)).toEqualTypeOf<User | undefined>()
    expectTypeOf(users.select()).toEqualTypeOf<User[]>()
    expectTypeOf(users.upsert({ id: 1, name: 'Ada' })).toEqualTypeOf<UpsertResult>()
    expectTypeOf(users.update({ age: 1 })).toEqualTypeOf<number>()
    expectTypeOf(users.getOrCreate({ name: 'Ada' }).record).toEqualTypeOf<User>()
  })
})
