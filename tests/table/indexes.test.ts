import { describe, expect, it } from 'vitest'
import { Database, DuplicateKeyError, InvalidArgumentError, increment } from '../../src/index'
import { expectDictDBError, ids, thrown } from '../support/helpers'

describe('createIndex and friends', () => {
  it('createIndex makes hasIndex true and lists the field in indexedFields, in creation order', () => {
    const t = new Database().createTable('t')
    expect(t.hasIndex('b')).toBe(false)
    t.createIndex('b')
    t.createIndex('a', { type: 'sorted' })
    expect(t.hasIndex('b')).toBe(true)
    expect(t.indexedFields()).toEqual(['b', 'a'])
  })

  it('createTable indexes option creates the indexes', () => {
    const t = new Database().createTable('t', { indexes: [{ field: 'a' }, { field: 'b', type: 'sorted', unique: true }] })
    expect(t.indexedFields()).toEqual(['a', 'b'])
    expect(t.explain(t.field('b').gt(1))).toMatchObject({ strategy: 'index', field: 'b', indexType: 'sorted' })
  })

  it('createIndex defaults to a hash index', () => {
    const t = new Database().createTable('t')
    t.createIndex('a')
    expect(t.explain({ a: 1 }).indexType).toBe('hash')
  })

  it('createIndex again with the same options does nothing', () => {
    const t = new Database().createTable('t')
    t.insert({ a: 1 })
    t.createIndex('a', { type: 'sorted', unique: true })
    t.createIndex('a', { type: 'sorted', unique: true })
    expect(t.indexedFields()).toEqual(['a'])
    expect(ids(t.select({ where: { a: 1 } }))).toEqual([1])
  })

  it('createIndex again with the default options written out does nothing', () => {
    const t = new Database().createTable('t')
    t.createIndex('a')
    t.createIndex('a', { type: 'hash', unique: false })
    expect(t.indexedFields()).toEqual(['a'])
  })

  it('createIndex again with another type is an error and keeps the first index', () => {
    const t = new Database().createTable('t')
    t.createIndex('a')
    expectDictDBError(() => t.createIndex('a', { type: 'sorted' }), 'InvalidArgumentError', /`t\.a`/, /hash/)
    expect(t.explain({ a: 1 }).indexType).toBe('hash')
  })

  it('createIndex again with another unique option is an error', () => {
    const t = new Database().createTable('t')
    t.createIndex('a', { unique: true })
    expect(thrown(() => t.createIndex('a'))).toBeInstanceOf(InvalidArgumentError)
  })

  it('createIndex with an unknown index type is an error naming it', () => {
    const t = new Database().createTable('t')
    expectDictDBError(() => t.createIndex('a', { type: 'btree' as 'hash' }), 'InvalidArgumentError', /btree/, /'hash' or 'sorted'/)
    expect(t.hasIndex('a')).toBe(false)
  })

  it('createIndex of a field a type-string schema does not have is an error with a did-you-mean, and no index is made', () => {
    const t = new Database().createTable('t', { schema: { name: 'string' } })
    expectDictDBError(() => t.createIndex('nmae' as never), 'InvalidArgumentError', /`nmae`/, /`name`/)
    expect(t.indexedFields()).toEqual([])
  })

  it('createTable with an index on a field its type-string schema does not have is an error, and no table is made', () => {
    const db = new Database()
    expectDictDBError(() => db.createTable('t', { schema: { name: 'string' }, indexes: [{ field: 'nmae' }] }), 'InvalidArgumentError', /`nmae`/)
    expect(db.hasTable('t')).toBe(false)
  })

  it('hasIndex of something other than a field name is an error, as for hasTable', () => {
    const t = new Database().createTable('t')
    expectDictDBError(() => t.hasIndex(5 as never), 'InvalidArgumentError', /field/)
  })

  it('dropIndex removes the index, and queries still answer the same', () => {
    const t = new Database().createTable('t', { indexes: [{ field: 'a' }] })
    t.insert([{ a: 1 }, { a: 2 }])
    t.dropIndex('a')
    expect(t.hasIndex('a')).toBe(false)
    expect(t.indexedFields()).toEqual([])
    expect(t.explain({ a: 1 }).strategy).toBe('scan')
    expect(ids(t.select({ where: { a: 2 } }))).toEqual([2])
  })

  it('dropIndex of a field without an index is an error', () => {
    const t = new Database().createTable('t')
    expectDictDBError(() => t.dropIndex('a'), 'InvalidArgumentError', /no index/, /`t\.a`/)
  })

  it('an index created over existing records finds them', () => {
    const t = new Database().createTable('t')
    t.insert([{ a: 'x' }, { a: 'y' }, { a: 'x' }])
    t.createIndex('a')
    expect(ids(t.select({ where: { a: 'x' } }))).toEqual([1, 3])
  })
})

describe.each(['hash', 'sorted'] as const)('a unique %s index', (type) => {
  function setup() {
    const db = new Database()
    const t = db.createTable('users', { indexes: [{ field: 'email', type, unique: true }] })
    t.insert([
      { id: 1, email: 'a@x' },
      { id: 2, email: 'b@x' },
    ])
    return { db, t }
  }

  it('refuses an insert of a value already taken with DuplicateKeyError naming the field', () => {
    const { t } = setup()
    const error = expectDictDBError(() => t.insert({ id: 3, email: 'a@x' }), 'DuplicateKeyError', /email/)
    expect(error.field).toBe('email')
    expect(error.table).toBe('users')
    expect(t.count()).toBe(2)
  })

  it("an insert's DuplicateKeyError names the value, the index, the record that holds it and the record refused", () => {
    const { t } = setup()
    const error = expectDictDBError(() => t.insert({ id: 8, email: 'a@x' }), 'DuplicateKeyError')
    expect(error.message).toBe('Duplicate value "a@x" for unique index `users.email`: record 1 holds it; inserting record 8 is refused')
    expect([error.key, error.field, error.table]).toEqual([8, 'email', 'users'])
  })

  it("an update's DuplicateKeyError names the record that holds the value and the record refused", () => {
    const { t } = setup()
    const error = expectDictDBError(() => t.update({ email: 'a@x' }, { id: 2 }), 'DuplicateKeyError')
    expect(error.message).toBe('Duplicate value "a@x" for unique index `users.email`: record 1 holds it; updating record 2 to it is refused')
    expect(error.key).toBe(2)
  })

  it('a DuplicateKeyError between two records of one insert names both', () => {
    const { t } = setup()
    const error = expectDictDBError(() => t.insert([{ id: 7, email: 'c@x' }, { id: 8, email: 'c@x' }]), 'DuplicateKeyError')
    expect(error.message).toBe('Duplicate value "c@x" for unique index `users.email`: records 7 and 8 of one change would both hold it; the change is refused')
  })

  it('refuses an update to a value another record holds, changing nothing', () => {
    const { t } = setup()
    expect(thrown(() => t.update({ email: 'a@x' }, { id: 2 }))).toBeInstanceOf(DuplicateKeyError)
    expect(t.get(2)?.email).toBe('b@x')
    expect(ids(t.select({ where: { email: 'b@x' } }))).toEqual([2])
  })

  it('lets a record be updated to its own value', () => {
    const { t } = setup()
    expect(t.update({ email: 'a@x', seen: true }, { id: 1 })).toBe(1)
  })

  it('allows many records with a null or missing value', () => {
    const { t } = setup()
    t.insert([{ id: 3, email: null }, { id: 4, email: null }, { id: 5 }, { id: 6 }])
    t.update({ email: null }, { id: 1 })
    expect(t.count(t.field('email').isNull())).toBe(5)
  })

  it('lets a value move between records within one update', () => {
    const db = new Database()
    const t = db.createTable('ranks', { indexes: [{ field: 'rank', type, unique: true }] })
    t.insert([{ rank: 1 }, { rank: 2 }, { rank: 3 }])
    expect(t.update({ rank: increment(1) })).toBe(3)
    expect(t.select({ columns: ['rank'] })).toEqual([{ rank: 2 }, { rank: 3 }, { rank: 4 }])
    expect(ids(t.select({ where: { rank: 2 } }))).toEqual([1])
  })

  it('lets a value move between records within one transaction', () => {
    const { db, t } = setup()
    db.transaction(() => {
      t.update({ email: 'old-a@x' }, { id: 1 })
      t.update({ email: 'a@x' }, { id: 2 })
    })
    expect(t.get(2)?.email).toBe('a@x')
  })

  it('frees a value when its record is deleted', () => {
    const { t } = setup()
    t.delete({ id: 1 })
    expect(t.insert({ email: 'a@x' })).toBe(3)
  })

  it('tells 1 and "1" apart', () => {
    const db = new Database()
    const t = db.createTable('t', { indexes: [{ field: 'code', type, unique: true }] })
    t.insert([{ code: 1 }, { code: '1' }, { code: 1n }])
    expect(t.count()).toBe(3)
  })

  it('compares dates by their time', () => {
    const db = new Database()
    const t = db.createTable('t', { indexes: [{ field: 'at', type, unique: true }] })
    t.insert({ at: new Date(5) })
    expect(thrown(() => t.insert({ at: new Date(5) }))).toBeInstanceOf(DuplicateKeyError)
  })

  it('cannot be created over existing duplicates, and no index is left behind', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.insert([{ email: 'a' }, { email: 'b' }, { email: 'a' }])
    expect(thrown(() => t.createIndex('email', { type, unique: true }))).toBeInstanceOf(DuplicateKeyError)
    expect(t.hasIndex('email')).toBe(false)
    expect(t.indexedFields()).toEqual([])
  })

  it('can be created over many null values', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.insert([{ email: null }, {}, { email: 'a' }])
    t.createIndex('email', { type, unique: true })
    expect(t.hasIndex('email')).toBe(true)
  })
})
