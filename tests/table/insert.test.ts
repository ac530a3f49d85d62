import { describe, expect, it } from 'vitest'
import { Database, DuplicateKeyError, InvalidArgumentError, SchemaValidationError } from '../../src/index'
import { expectDictDBError, thrown } from '../support/helpers'

function setup() {
  const db = new Database()
  return { db, t: db.createTable('items') }
}

describe('insert: keys', () => {
  it('insert without a primary key assigns 1, 2, 3 and returns the key', () => {
    const { t } = setup()
    expect([t.insert({ a: 1 }), t.insert({ a: 2 }), t.insert({ a: 3 })]).toEqual([1, 2, 3])
    expect(t.all()).toEqual([
      { id: 1, a: 1 },
      { id: 2, a: 2 },
      { id: 3, a: 3 },
    ])
  })

  it('insert never reuses a key after the last record is deleted', () => {
    const { t } = setup()
    t.insert({})
    t.insert({})
    t.insert({})
    t.delete({ id: 3 })
    expect(t.insert({})).toBe(4)
  })

  it('insert never reuses a key after every record is deleted', () => {
    const { t } = setup()
    t.insert([{}, {}, {}])
    t.delete()
    expect(t.insert({})).toBe(4)
  })

  it('a key handed out in a transaction that rolled back is given back, since no committed record used it', () => {
    const { db, t } = setup()
    expect(() =>
      db.transaction(() => {
        expect(t.insert({ a: 1 })).toBe(1)
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(t.count()).toBe(0)
    expect(t.insert({ a: 2 })).toBe(1)
  })

  it('a key committed and then deleted is never handed out again, even after a later rollback', () => {
    const { db, t } = setup()
    t.insert({ a: 1 })
    t.delete({ id: 1 })
    expect(() => db.transaction(() => (t.insert({ a: 2 }), fail()))).toThrow('abort')
    expect(t.insert({ a: 3 })).toBe(2)
  })

  it('an explicit integer key moves the next auto key past it', () => {
    const { t } = setup()
    t.insert({ id: 10 })
    expect(t.insert({})).toBe(11)
  })

  it('an explicit key below the next auto key does not move it back', () => {
    const { t } = setup()
    t.insert([{}, {}, {}])
    t.insert({ id: -5 })
    expect(t.insert({})).toBe(4)
  })

  it('explicit string and non-integer keys do not move the next auto key', () => {
    const { t } = setup()
    t.insert({ id: 'x99' })
    t.insert({ id: 7.5 })
    expect(t.insert({})).toBe(1)
  })

  it('an integer key past Number.MAX_SAFE_INTEGER is an InvalidArgumentError and nothing is stored', () => {
    const { t } = setup()
    expectDictDBError(() => t.insert({ id: 2 ** 60 }), 'InvalidArgumentError', /MAX_SAFE_INTEGER/)
    expectDictDBError(() => t.insert([{ id: 1 }, { id: -(2 ** 53) }]), 'InvalidArgumentError')
    expect(t.count()).toBe(0)
    expect(t.insert({})).toBe(1)
  })

  it('an auto key past Number.MAX_SAFE_INTEGER is an InvalidStateError, not a duplicate of its neighbour', () => {
    const { t } = setup()
    t.insert({ id: Number.MAX_SAFE_INTEGER })
    expectDictDBError(() => t.insert({}), 'InvalidStateError', /auto keys/)
    expect(t.count()).toBe(1)
    expect(t.insert({ id: 'next' })).toBe('next')
  })

  it('a null primary key counts as missing and is assigned', () => {
    const { t } = setup()
    expect(t.insert({ id: null, a: 1 })).toBe(1)
    expect(t.get(1)).toEqual({ id: 1, a: 1 })
  })

  it('insert uses the table primaryKey option for keys', () => {
    const { db } = setup()
    const t = db.createTable('codes', { primaryKey: 'code' })
    expect(t.primaryKey).toBe('code')
    expect(t.insert({ name: 'a' })).toBe(1)
    expect(t.insert({ code: 'X', name: 'b' })).toBe('X')
    expect(t.all()).toEqual([
      { code: 1, name: 'a' },
      { code: 'X', name: 'b' },
    ])
  })

  it('insert of a duplicate key throws DuplicateKeyError and keeps the stored record', () => {
    const { t } = setup()
    t.insert({ id: 1, a: 'first' })
    const error = expectDictDBError(() => t.insert({ id: 1, a: 'second' }), 'DuplicateKeyError', /1/)
    expect(error).toBeInstanceOf(DuplicateKeyError)
    expect(error.table).toBe('items')
    expect(error.key).toBe(1)
    expect(t.all()).toEqual([{ id: 1, a: 'first' }])
  })

  it('keys 1 and "1" are different keys', () => {
    const { t } = setup()
    t.insert({ id: 1 })
    t.insert({ id: '1' })
    expect(t.count()).toBe(2)
  })
})

describe('insert: copies', () => {
  it('insert stores a copy: changing the caller object afterwards changes nothing stored', () => {
    const { t } = setup()
    const record = { name: 'Ada', address: { city: 'Paris' }, tags: ['a'], born: new Date(0) }
    const id = t.insert(record)
    record.name = 'Bob'
    record.address.city = 'Lyon'
    record.tags.push('b')
    record.born.setFullYear(2000)
    expect(t.get(id)).toEqual({ id, name: 'Ada', address: { city: 'Paris' }, tags: ['a'], born: new Date(0) })
  })

  it('insert does not add the assigned key to the caller object', () => {
    const { t } = setup()
    const record = { name: 'Ada' }
    t.insert(record)
    expect(record).toEqual({ name: 'Ada' })
  })

  it('get returns a copy: changing it changes nothing stored', () => {
    const { t } = setup()
    const id = t.insert({ nested: { n: 1 } })
    const got = t.get(id) as { nested: { n: number } }
    got.nested.n = 2
    expect(t.get(id)).toEqual({ id, nested: { n: 1 } })
  })

  it('get of an unknown key returns undefined', () => {
    const { t } = setup()
    expect(t.get(42)).toBeUndefined()
  })

  it('records whose field names would join into the same list are stored and read as given', () => {
    const { t } = setup()
    t.insert({ id: 1, 'a\u0000': 1, b: 2 })
    t.insert({ id: 2, a: 1, '\u0000b': 2 })
    expect([t.get(1), t.get(2)]).toEqual([
      { id: 1, 'a\u0000': 1, b: 2 },
      { id: 2, a: 1, '\u0000b': 2 },
    ])
  })
})

describe('insert: lists', () => {
  it('a list insert returns the keys in order', () => {
    const { t } = setup()
    expect(t.insert([{ a: 1 }, { id: 'k' }, { a: 3 }])).toEqual([1, 'k', 2])
    expect(t.count()).toBe(3)
  })

  it('a list mixing explicit and auto keys assigns auto keys past the explicit ones before them', () => {
    const { t } = setup()
    expect(t.insert([{ id: 5 }, {}])).toEqual([5, 6])
  })

  it('an empty list insert stores nothing and returns []', () => {
    const { t } = setup()
    expect(t.insert([])).toEqual([])
    expect(t.count()).toBe(0)
  })

  it('a list insert with a duplicate key inside the list stores none', () => {
    const { t } = setup()
    expect(thrown(() => t.insert([{ id: 'a' }, { id: 'b' }, { id: 'a' }]))).toBeInstanceOf(DuplicateKeyError)
    expect(t.count()).toBe(0)
  })

  it('a list insert whose rising integer keys come back to an earlier one stores none', () => {
    const { t } = setup()
    expect(thrown(() => t.insert([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 2 }]))).toBeInstanceOf(DuplicateKeyError)
    expect(t.count()).toBe(0)
  })

  it('a list insert repeating a given key that its auto keys reached stores none', () => {
    const { t } = setup()
    expect(thrown(() => t.insert([{ a: 1 }, { a: 2 }, { id: 2 }]))).toBeInstanceOf(DuplicateKeyError)
    expect(t.count()).toBe(0)
  })

  it('a list insert mixing string, falling and auto keys returns each key in order', () => {
    const { t } = setup()
    expect(t.insert([{ id: 5 }, { id: 'x' }, { id: 3 }, { a: 1 }, { id: 4.5 }])).toEqual([5, 'x', 3, 6, 4.5])
  })

  it('a list insert with a key already stored stores none', () => {
    const { t } = setup()
    t.insert({ id: 2 })
    expect(thrown(() => t.insert([{ id: 1 }, { id: 2 }, { id: 3 }]))).toBeInstanceOf(DuplicateKeyError)
    expect(t.all()).toEqual([{ id: 2 }])
  })

  it('a list insert with one record failing the schema stores none', () => {
    const { db } = setup()
    const t = db.createTable('typed', { schema: { n: 'number' } })
    expect(thrown(() => t.insert([{ n: 1 }, { n: 'two' }, { n: 3 }]))).toBeInstanceOf(SchemaValidationError)
    expect(t.count()).toBe(0)
  })

  it('a list insert violating a unique index within the list stores none', () => {
    const { db } = setup()
    const t = db.createTable('u', { indexes: [{ field: 'email', unique: true }] })
    expect(thrown(() => t.insert([{ email: 'a' }, { email: 'b' }, { email: 'a' }]))).toBeInstanceOf(DuplicateKeyError)
    expect(t.count()).toBe(0)
    expect(t.select({ where: { email: 'a' } })).toEqual([])
  })

  it('a list insert violating a unique index against a stored record stores none', () => {
    const { db } = setup()
    const t = db.createTable('u', { indexes: [{ field: 'email', unique: true }] })
    t.insert({ email: 'b' })
    expect(thrown(() => t.insert([{ email: 'a' }, { email: 'b' }]))).toBeInstanceOf(DuplicateKeyError)
    expect(t.all()).toEqual([{ id: 1, email: 'b' }])
  })

  it('a list insert with one unstorable value stores none', () => {
    const { t } = setup()
    expect(thrown(() => t.insert([{ a: 1 }, { a: () => 1 }]))).toBeInstanceOf(InvalidArgumentError)
    expect(t.count()).toBe(0)
  })

  it('a list insert with skipValidation stores records the schema would refuse', () => {
    const { db } = setup()
    const t = db.createTable('typed', { schema: { n: 'number' } })
    expect(t.insert([{ n: 'not a number' }], { skipValidation: true })).toEqual([1])
    expect(t.get(1)).toEqual({ id: 1, n: 'not a number' })
  })
})

function fail(): never {
  throw new Error('abort')
}
