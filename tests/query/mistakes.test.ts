import { describe, expect, it } from 'vitest'
import { Database, Field, avg, count } from '../../src/index'
import { expectDictDBError, snapshot } from '../support/helpers'

// SPEC, Queries: "Likely mistakes are errors, not empty results".

function people() {
  const db = new Database()
  const users = db.createTable('users', { schema: { name: 'string', age: { type: 'number', optional: true } } })
  users.insert([{ name: 'Ada', age: 36 }, { name: 'Bob', age: 25 }])
  const loose = db.createTable('loose')
  loose.insert([{ name: 'Ada', age: 36 }])
  return { db, users, loose }
}

describe('operator-looking objects in a where object', () => {
  it('refuses { age: { $gt: 30 } } and shows the DSL form', () => {
    const { users } = people()
    const e = expectDictDBError(() => users.select({ where: { age: { $gt: 30 } as never } }), 'InvalidArgumentError', /operator/, /users\.field\('age'\)\.gt\(30\)/)
    expect(e.field).toBe('age')
  })

  it('shows the start of a very long field name in its message, and the whole name in `field`', () => {
    const { loose } = people()
    const name = 'x'.repeat(5_000)
    const e = expectDictDBError(() => loose.count({ [name]: { $gt: 1 } }), 'InvalidArgumentError', /operator/, /xxx\.\.\./)
    expect(e.message.length).toBeLessThan(1_000)
    expect(e.field).toBe(name)
  })

  it("refuses { age: { gt: 30 } } (the DSL's own operator names) and shows the DSL form", () => {
    const { loose } = people()
    expectDictDBError(() => loose.select({ where: { age: { gt: 30 } } }), 'InvalidArgumentError', /loose\.field\('age'\)\.gt\(30\)/)
  })

  it('refuses them in count, update, delete, getOrCreate and aggregate too', () => {
    const { db, loose } = people()
    const before = snapshot(db)
    const where = { age: { $in: [36] } }
    for (const call of [
      () => loose.count(where),
      () => loose.update({ name: 'x' }, where),
      () => loose.delete(where),
      () => loose.getOrCreate(where),
      () => loose.aggregate({ n: count() }, { where }),
    ]) {
      expectDictDBError(call, 'InvalidArgumentError', /isIn\(\[36\]\)/)
    }
    expect(snapshot(db)).toEqual(before)
  })

  it('refuses a MongoDB logical operator as a field of the where object ({ $or: [...] })', () => {
    const { db, loose } = people()
    const before = snapshot(db)
    expectDictDBError(() => loose.select({ where: { $or: [{ name: 'Ada' }, { age: 25 }] } as never }), 'InvalidArgumentError', /\$or/, /or\(/)
    expectDictDBError(() => loose.count({ $and: [{ name: 'Ada' }] } as never), 'InvalidArgumentError', /\$and/)
    expectDictDBError(() => loose.delete({ $nor: [{ name: 'Ada' }] } as never), 'InvalidArgumentError', /\$nor/)
    expect(snapshot(db)).toEqual(before)
  })

  it('names the way to match an object with such keys: field().eq({...})', () => {
    const { loose } = people()
    loose.insert({ name: 'range', bounds: { gt: 1 } })
    expectDictDBError(() => loose.select({ where: { bounds: { gt: 1 } } }), 'InvalidArgumentError', /field\('bounds'\)\.eq\(\{…\}\)/)
    expect(loose.select({ where: loose.field('bounds').eq({ gt: 1 }) }).map((r) => r.name)).toEqual(['range'])
  })

  it('still matches nested objects whose keys are not operators', () => {
    const { loose } = people()
    loose.insert({ name: 'Paris', place: { city: 'Paris', zip: '75001' } })
    expect(loose.select({ where: { place: { city: 'Paris', zip: '75001' } } }).map((r) => r.name)).toEqual(['Paris'])
  })
})

describe('unknown fields on a table with a schema', () => {
  it('field() of an unknown field is an error with a did-you-mean', () => {
    const { users } = people()
    const e = expectDictDBError(() => users.field('agee' as never), 'InvalidArgumentError', /no field `agee`/, /Did you mean `age`\?/)
    expect(e).toMatchObject({ table: 'users', field: 'agee' })
  })

  it('a where object naming an unknown field is an error, not an empty result', () => {
    const { users } = people()
    expectDictDBError(() => users.select({ where: { nmae: 'Ada' } as never }), 'InvalidArgumentError', /`nmae`/, /`name`/)
  })

  it('a Condition built elsewhere on an unknown field is an error', () => {
    const { users } = people()
    expectDictDBError(() => users.count(new Field('agee').gt(1)), 'InvalidArgumentError', /`agee`/, /`age`/)
    expectDictDBError(() => users.delete(new Field('name').eq('Ada').and(new Field('zzz').isNull())), 'InvalidArgumentError', /`zzz`/, /Its fields: id, name, age/)
  })

  it('orderBy and columns naming an unknown field are errors', () => {
    const { users } = people()
    expectDictDBError(() => users.select({ orderBy: '-agee' as never }), 'InvalidArgumentError', /`agee`/, /orderBy/, /`age`/)
    expectDictDBError(() => users.select({ columns: ['nmae'] as never }), 'InvalidArgumentError', /`nmae`/, /columns/, /`name`/)
    expectDictDBError(() => users.select({ columns: { who: 'nmae' } as never }), 'InvalidArgumentError', /`nmae`/)
  })

  it('aggregations and groupBy naming an unknown field are errors', () => {
    const { users } = people()
    expectDictDBError(() => users.aggregate({ a: avg('agee') }), 'InvalidArgumentError', /`agee`/, /`age`/)
    expectDictDBError(() => users.aggregate({ n: count() }, { groupBy: 'nmae' as never }), 'InvalidArgumentError', /`nmae`/)
  })

  it('watch() naming an unknown field is an error too', () => {
    const { users } = people()
    expectDictDBError(() => users.watch({ where: { nmae: 'Ada' } as never }, () => {}), 'InvalidArgumentError', /`nmae`/, /`name`/)
    expectDictDBError(() => users.watch({ orderBy: 'agee' as never }, () => {}), 'InvalidArgumentError', /`agee`/)
  })

  it('the primary key and every schema field are known', () => {
    const { users } = people()
    expect(users.select({ where: { id: 1 }, orderBy: ['-age', 'name'], columns: ['id', 'name'] })).toEqual([{ id: 1, name: 'Ada' }])
  })

  it('a table without a schema accepts any field name (a missing field is null)', () => {
    const { loose } = people()
    expect(loose.select({ where: loose.field('nope').isNull() })).toHaveLength(1)
    expect(loose.select({ orderBy: 'nope', columns: ['nope'] })).toEqual([{ nope: null }])
  })
})

describe("orderBy: 'age desc'", () => {
  it("is refused, showing '-age'", () => {
    const { loose } = people()
    expectDictDBError(() => loose.select({ orderBy: 'age desc' as never }), 'InvalidArgumentError', /'-age'/, /age desc/)
  })

  it("'name ASC' is refused too, showing 'name'", () => {
    const { loose } = people()
    expectDictDBError(() => loose.select({ orderBy: ['age', 'name ASC'] as never }), 'InvalidArgumentError', /write 'name'/)
  })

  it("'+age' is refused too, showing 'age' (ascending is the default), not sorted by a field named '+age'", () => {
    const { loose } = people()
    expectDictDBError(() => loose.select({ orderBy: '+age' as never }), 'InvalidArgumentError', /write 'age'/)
  })
})
