// A string holding a lone surrogate (half of a pair, as `'😀'.slice(0, 1)` makes) has no UTF-8
// form: the shared log and the binary file would store U+FFFD in its place, so another thread or
// a reload would hold a different value than the writer (found by the audit of the shared fast
// paths). Such strings are refused where they would be stored: values, field names, keys, table
// names. Well-formed text of every plane is kept exactly (tests/shared/patch-model.property.test.ts).
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '../src/index'
import { expectDictDBError, snapshot } from './support/helpers'

const LONE = ['a\ud800', '\udc00b', '😀'.slice(0, 1), 'x\udfff\ud800y']
const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

function setup(shared = false) {
  const db = new Database({ shared })
  open.push(db)
  const t = db.createTable('t', { indexes: [{ field: 's' }] })
  t.insert({ id: 1, s: 'kept 😀' })
  return { db, t, before: snapshot(db) }
}

describe('a string with a lone surrogate', () => {
  it.each(LONE)('is refused as a value by insert, update and upsert, leaving the database unchanged (%j)', (s) => {
    const { db, t, before } = setup()
    expectDictDBError(() => t.insert({ id: 2, s }), 'InvalidArgumentError', /surrogate/)
    expectDictDBError(() => t.update({ s }, { id: 1 }), 'InvalidArgumentError', /surrogate/)
    expectDictDBError(() => t.upsert({ id: 1, s }), 'InvalidArgumentError', /surrogate/)
    expect(snapshot(db)).toEqual(before)
  })

  it('is refused inside a nested value and as a nested field name', () => {
    const { db, t, before } = setup()
    expectDictDBError(() => t.insert({ id: 2, list: ['ok', 'a\ud800'] }), 'InvalidArgumentError', /surrogate/)
    expectDictDBError(() => t.insert({ id: 2, deep: { ['k\ud800']: 1 } }), 'InvalidArgumentError', /surrogate/)
    expect(snapshot(db)).toEqual(before)
  })

  it('is refused as a record field name', () => {
    const { db, t, before } = setup()
    expectDictDBError(() => t.insert({ id: 2, ['f\udc00']: 1 }), 'InvalidArgumentError', /surrogate/)
    expectDictDBError(() => t.update({ ['f\udc00']: 1 }, { id: 1 }), 'InvalidArgumentError', /surrogate/)
    expect(snapshot(db)).toEqual(before)
  })

  it('is refused as a primary key', () => {
    const { db, t, before } = setup()
    expectDictDBError(() => t.insert({ id: 'k\ud800', s: 'x' }), 'InvalidArgumentError', /surrogate/)
    expect(snapshot(db)).toEqual(before)
  })

  it('is refused as a table name', () => {
    const { db, before } = setup()
    expectDictDBError(() => db.createTable('t\ud800'), 'InvalidArgumentError')
    expect(snapshot(db)).toEqual(before)
  })

  it('is refused by a shared database, whose other replica then holds what the writer holds', () => {
    const { db, t } = setup(true)
    const other = Database.attach(db.handle())
    open.unshift(other)
    expectDictDBError(() => t.update({ s: 'a\ud800' }, { id: 1 }), 'InvalidArgumentError', /surrogate/)
    t.update({ s: 'pair 😀 kept' }, { id: 1 })
    expect(other.getTable('t').get(1)).toEqual({ id: 1, s: 'pair 😀 kept' })
  })
})
