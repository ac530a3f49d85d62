import { describe, expect, it } from 'vitest'
import { Database, DuplicateKeyError, SchemaValidationError } from '../../src/index'
import { expectDictDBError, thrown } from '../support/helpers'

function setup() {
  const db = new Database()
  const t = db.createTable('users')
  t.insert({ id: 1, name: 'Ada', age: 36, city: 'London' })
  return { db, t }
}

describe('upsert', () => {
  it('upsert of a new key inserts it', () => {
    const { t } = setup()
    expect(t.upsert({ id: 2, name: 'Bob' })).toEqual({ key: 2, action: 'inserted' })
    expect(t.get(2)).toEqual({ id: 2, name: 'Bob' })
  })

  it('upsert without a key inserts with an auto key', () => {
    const { t } = setup()
    expect(t.upsert({ name: 'Bob' })).toEqual({ key: 2, action: 'inserted' })
    expect(t.get(2)).toEqual({ id: 2, name: 'Bob' })
  })

  it('upsert of an existing key defaults to update and merges the given fields', () => {
    const { t } = setup()
    expect(t.upsert({ id: 1, age: 37, email: 'ada@x.org' })).toEqual({ key: 1, action: 'updated' })
    expect(t.get(1)).toEqual({ id: 1, name: 'Ada', age: 37, city: 'London', email: 'ada@x.org' })
  })

  it("upsert with onConflict 'update' merges into the stored record", () => {
    const { t } = setup()
    expect(t.upsert({ id: 1, city: null }, { onConflict: 'update' })).toEqual({ key: 1, action: 'updated' })
    expect(t.get(1)).toEqual({ id: 1, name: 'Ada', age: 36, city: null })
  })

  it("upsert with onConflict 'ignore' keeps the stored record", () => {
    const { t } = setup()
    expect(t.upsert({ id: 1, name: 'Other' }, { onConflict: 'ignore' })).toEqual({ key: 1, action: 'ignored' })
    expect(t.get(1)).toEqual({ id: 1, name: 'Ada', age: 36, city: 'London' })
  })

  it("upsert with onConflict 'ignore' inserts a new key", () => {
    const { t } = setup()
    expect(t.upsert({ id: 3 }, { onConflict: 'ignore' })).toEqual({ key: 3, action: 'inserted' })
  })

  it("upsert with onConflict 'error' throws DuplicateKeyError and keeps the stored record", () => {
    const { t } = setup()
    const error = expectDictDBError(() => t.upsert({ id: 1, name: 'Other' }, { onConflict: 'error' }), 'DuplicateKeyError')
    expect(error.key).toBe(1)
    expect(t.get(1)).toEqual({ id: 1, name: 'Ada', age: 36, city: 'London' })
  })

  it("upsert with onConflict 'error' inserts a new key", () => {
    const { t } = setup()
    expect(t.upsert({ id: 5, name: 'Eve' }, { onConflict: 'error' })).toEqual({ key: 5, action: 'inserted' })
  })

  it('an upsert merge that fails the schema changes nothing', () => {
    const db = new Database()
    const t = db.createTable('typed', { schema: { name: 'string', age: 'integer' } })
    t.insert({ id: 1, name: 'Ada', age: 36 })
    expect(thrown(() => t.upsert({ id: 1, age: 36.5 }))).toBeInstanceOf(SchemaValidationError)
    expect(t.get(1)).toEqual({ id: 1, name: 'Ada', age: 36 })
  })

  it('an upsert merge that violates a unique index changes nothing', () => {
    const db = new Database()
    const t = db.createTable('u', { indexes: [{ field: 'email', unique: true }] })
    t.insert([
      { id: 1, email: 'a' },
      { id: 2, email: 'b' },
    ])
    expect(thrown(() => t.upsert({ id: 2, email: 'a' }))).toBeInstanceOf(DuplicateKeyError)
    expect(t.all()).toEqual([
      { id: 1, email: 'a' },
      { id: 2, email: 'b' },
    ])
  })

  it('upsert stores a copy of the given fields', () => {
    const { t } = setup()
    const patch = { id: 1, prefs: { theme: 'dark' } }
    t.upsert(patch)
    patch.prefs.theme = 'light'
    expect(t.get(1)).toMatchObject({ prefs: { theme: 'dark' } })
  })

  it('an updating upsert keeps the record in its place', () => {
    const { t } = setup()
    t.insert({ id: 2, name: 'Bob' })
    t.upsert({ id: 1, name: 'Ada L.' })
    expect(t.all().map((r) => r.id)).toEqual([1, 2])
  })
})
