import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database, count, increment, max, type Table } from '../../src/index'
import { DATABASE_KINDS, INDEX_KINDS, databasesClosedAfterEach, expectDictDBError, ids, indexFields } from '../support/helpers'

// A field named after a member of Object.prototype (`constructor`, `toString`…) is a field like
// any other: a record without it has no value there, not the prototype's function.
const NAMES = ['constructor', 'toString', 'hasOwnProperty'] as const

/** Record 1 lacks the field; records 2 and 3 hold 'x' and 'a'. */
function people(name: string, kind: (typeof INDEX_KINDS)[number]): Table {
  const t = new Database().createTable('people')
  indexFields(t, kind, [name])
  t.insert([{ id: 1, nick: 'p' }, { id: 2, [name]: 'x' }, { id: 3, [name]: 'a' }])
  return t
}

describe.each(NAMES)('a field named `%s`', (name) => {
  describe.each(INDEX_KINDS)('with %s index on it', (kind) => {
    it('isNull matches a record without the field, and isNotNull does not', () => {
      const t = people(name, kind)
      expect(ids(t.select({ where: t.field(name).isNull() }))).toEqual([1])
      expect(ids(t.select({ where: t.field(name).isNotNull() }))).toEqual([2, 3])
    })

    it('a deleted record without the field is gone from the index too', () => {
      const t = people(name, kind)
      t.delete({ id: 1 })
      expect(ids(t.select({ where: t.field(name).isNull() }))).toEqual([])
      t.insert({ id: 1, [name]: 'y' })
      expect(ids(t.select({ where: t.field(name).isNull() }))).toEqual([])
    })

    it('orderBy sorts a record without the field as a missing value, first', () => {
      const t = people(name, kind)
      expect(ids(t.select({ orderBy: name }))).toEqual([1, 3, 2])
      expect(ids(t.select({ orderBy: `-${name}` }))).toEqual([2, 3, 1])
    })
  })

  it('a projection gives null for a record without the field', () => {
    const t = people(name, 'none')
    expect(t.select({ columns: [name] })).toEqual([{ [name]: null }, { [name]: 'x' }, { [name]: 'a' }])
    expect(t.select({ columns: { v: name }, where: { id: 1 } })).toEqual([{ v: null }])
  })

  it('count and max of the field skip a record without it', () => {
    const t = people(name, 'none')
    expect(t.aggregate({ n: count(name), top: max(name) })).toEqual({ n: 2, top: 'x' })
  })

  it('groupBy puts a record without the field in the null group', () => {
    const t = people(name, 'none')
    expect(t.aggregate({ n: count() }, { groupBy: name })).toEqual([
      { [name]: null, n: 1 },
      { [name]: 'x', n: 1 },
      { [name]: 'a', n: 1 },
    ])
  })

  it('a unique index on the field accepts two records without it', () => {
    const t = new Database().createTable('t')
    t.insert([{ id: 1 }, { id: 2 }])
    t.createIndex(name, { unique: true })
    t.insert({ id: 3 })
    expect(t.count(t.field(name).isNull())).toBe(3)
  })

  it('a schema with the field optional accepts a record without it', () => {
    const t = new Database().createTable('t', { schema: { [name]: { type: 'string', optional: true } } })
    t.insert({ id: 1 })
    expect(t.all()).toEqual([{ id: 1 }])
  })

  it('a schema with the field required refuses a record without it as missing', () => {
    const t = new Database().createTable('t', { schema: { [name]: 'string' } })
    expectDictDBError(() => t.insert({ id: 1 }), 'SchemaValidationError', /is required/)
    expect(t.count()).toBe(0)
  })

  it('increment of the field in a record without it sets it to the increment', () => {
    const t = people(name, 'none')
    t.update({ [name]: increment(2) }, { id: 1 })
    expect(t.get(1)).toEqual({ id: 1, nick: 'p', [name]: 2 })
  })
})

describe('a table named `toString` and a `schemas` option that does not name it', () => {
  const validator = { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) } } as const

  it('Database.attach leaves the table without its Standard Schema, and a write asks for it', () => {
    const db = new Database({ shared: true })
    try {
      db.createTable('toString', { schema: validator })
      const other = Database.attach(db.handle(), { schemas: {} })
      try {
        expectDictDBError(() => other.getTable('toString').insert({ id: 1 }), 'InvalidStateError', /pass it again/)
      } finally {
        other.close()
      }
    } finally {
      db.close()
    }
  })

  it('Database.load keeps the type-string schema the file holds', () => {
    const db = new Database()
    db.createTable('toString', { schema: { name: 'string' } })
    const file = join(mkdtempSync(join(tmpdir(), 'dictdb-names-')), 'db.json')
    db.save(file)
    const table = Database.load(file, { schemas: {} }).getTable('toString')
    table.insert({ id: 1, name: 'a' })
    expectDictDBError(() => table.insert({ id: 2, name: 2 }), 'SchemaValidationError')
    expect(table.count()).toBe(1)
  })
})

describe.each(DATABASE_KINDS)('an update of a field named `__proto__` (as JSON.parse makes it) on a %s database', (dbKind) => {
  const open = databasesClosedAfterEach()

  it.each([
    ['alone, to an object', '{"__proto__": {"x": 1}}'],
    ['alone, to a number', '{"__proto__": 3}'],
    ['beside another field', '{"a": 5, "__proto__": {"x": 1}}'],
  ])('is refused %s, and nothing changes', (_, json) => {
    const t = open(dbKind).createTable('t')
    t.insert([{ id: 1, a: 1 }, { id: 2, a: 2 }])
    expectDictDBError(() => t.update(JSON.parse(json), { id: 1 }), 'InvalidArgumentError', /__proto__/)
    expectDictDBError(() => t.update(JSON.parse(json)), 'InvalidArgumentError', /__proto__/)
    const stored = t.select({ copy: false })
    expect(stored).toEqual([{ id: 1, a: 1 }, { id: 2, a: 2 }])
    expect(stored.map((r) => Object.getPrototypeOf(r) === Object.prototype)).toEqual([true, true])
  })
})
