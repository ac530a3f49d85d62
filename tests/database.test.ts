import { describe, expect, it } from 'vitest'
import { Database, DictDBError, DuplicateTableError, InvalidArgumentError, Table, TableNotFoundError } from '../src/index'
import { expectDictDBError, snapshot, thrown } from './support/helpers'

describe('tables in a database', () => {
  it('createTable returns an empty table with that name and the primary key id', () => {
    const db = new Database()
    const t = db.createTable('users')
    expect(t).toBeInstanceOf(Table)
    expect(t.name).toBe('users')
    expect(t.primaryKey).toBe('id')
    expect(t.count()).toBe(0)
  })

  it('createTable on an existing name throws DuplicateTableError and keeps the table', () => {
    const db = new Database()
    const t = db.createTable('users')
    t.insert({ a: 1 })
    const error = expectDictDBError(() => db.createTable('users'), 'DuplicateTableError', /`users`/)
    expect(error).toBeInstanceOf(DuplicateTableError)
    expect(error.table).toBe('users')
    expect(db.getTable('users')).toBe(t)
    expect(t.count()).toBe(1)
  })

  it('getTable returns the same table object', () => {
    const db = new Database()
    const t = db.createTable('users')
    expect(db.getTable('users')).toBe(t)
  })

  it('getTable of an unknown name throws TableNotFoundError naming it', () => {
    const db = new Database()
    const error = expectDictDBError(() => db.getTable('ghosts'), 'TableNotFoundError', /`ghosts`/)
    expect(error).toBeInstanceOf(TableNotFoundError)
    expect(error.table).toBe('ghosts')
  })

  it('hasTable tells whether a table exists', () => {
    const db = new Database()
    db.createTable('users')
    expect(db.hasTable('users')).toBe(true)
    expect(db.hasTable('other')).toBe(false)
  })

  it('listTables lists the table names in creation order', () => {
    const db = new Database()
    expect(db.listTables()).toEqual([])
    db.createTable('b')
    db.createTable('a')
    db.createTable('c')
    expect(db.listTables()).toEqual(['b', 'a', 'c'])
  })

  it('dropTable removes the table and its records', () => {
    const db = new Database()
    db.createTable('users').insert({ a: 1 })
    db.createTable('other')
    db.dropTable('users')
    expect(db.hasTable('users')).toBe(false)
    expect(db.listTables()).toEqual(['other'])
    expect(thrown(() => db.getTable('users'))).toBeInstanceOf(TableNotFoundError)
  })

  it('dropTable of an unknown name throws TableNotFoundError', () => {
    const db = new Database()
    db.createTable('users')
    expectDictDBError(() => db.dropTable('ghosts'), 'TableNotFoundError', /`ghosts`/)
    expect(db.listTables()).toEqual(['users'])
  })

  it("a dropped table's object throws TableNotFoundError on every call", () => {
    const db = new Database()
    const t = db.createTable('users')
    t.insert({ a: 1 })
    db.dropTable('users')
    const calls: Array<() => unknown> = [
      () => t.insert({ a: 2 }),
      () => t.select(),
      () => t.get(1),
      () => t.count(),
      () => t.update({ a: 3 }),
      () => t.delete(),
      () => t.upsert({ id: 1 }),
      () => t.getOrCreate({ a: 1 }),
      () => t.all(),
      () => t.copy(),
      () => t.createIndex('a'),
      () => t.indexedFields(),
      () => t.aggregate({}),
    ]
    for (const call of calls) expectDictDBError(call, 'TableNotFoundError', /`users`/, /dropped/)
  })

  it('a name can be used again after its table is dropped, for a new empty table', () => {
    const db = new Database()
    const old = db.createTable('users', { indexes: [{ field: 'a' }] })
    old.insert({ a: 1 })
    db.dropTable('users')
    const fresh = db.createTable('users')
    expect(fresh).not.toBe(old)
    expect(fresh.count()).toBe(0)
    expect(fresh.indexedFields()).toEqual([])
    expect(fresh.insert({})).toBe(1)
    expect(thrown(() => old.count())).toBeInstanceOf(TableNotFoundError)
  })

  it('tables are independent: keys, records and indexes', () => {
    const db = new Database()
    const a = db.createTable('a', { indexes: [{ field: 'x' }] })
    const b = db.createTable('b')
    a.insert([{ x: 1 }, { x: 2 }])
    expect(b.insert({ x: 1 })).toBe(1)
    expect(b.indexedFields()).toEqual([])
    expect(a.count()).toBe(2)
  })

  it('createTable options set the primary key, schema and indexes', () => {
    const db = new Database()
    const t = db.createTable('p', { primaryKey: 'sku', schema: { name: 'string' }, indexes: [{ field: 'name', type: 'sorted' }] })
    expect(t.primaryKey).toBe('sku')
    expect(t.schemaFields()).toEqual(['name'])
    expect(t.indexedFields()).toEqual(['name'])
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'a primary key named %s (a property every object has) is refused, and no table is made',
    (primaryKey) => {
      const db = new Database()
      expectDictDBError(() => db.createTable('t', { primaryKey }), 'InvalidArgumentError', /primaryKey/)
      expect(db.hasTable('t')).toBe(false)
    },
  )

  it('a schema with a field named __proto__ (no record can hold it) is refused, and no table is made', () => {
    const db = new Database()
    expectDictDBError(() => db.createTable('t', { schema: JSON.parse('{"__proto__": "string"}') }), 'InvalidArgumentError', /__proto__/)
    expect(db.hasTable('t')).toBe(false)
  })

  it('table names may contain letters, digits, spaces, dots, dashes and unicode', () => {
    const db = new Database()
    for (const name of ['users', 'user_2', 'my table', 'v1.2', 'a-b', 'café', 'Users2024']) db.createTable(name)
    expect(db.listTables()).toHaveLength(7)
  })
})

describe('unsafe table names', () => {
  it.each([
    ['__proto__'],
    ['constructor'],
    ['prototype'],
    ['a/b'],
    ['a\\b'],
    ['..'],
    ['.'],
    ['../etc'],
    ['nul\u0000byte'],
    ['tab\there'],
    ['line\nbreak'],
    ['del\u007f'],
    ['c:drive'],
    ['what?'],
    ['star*'],
    ['x'.repeat(201)],
    ['CON'],
    ['nul'],
    ['Com1'],
    ['lpt9.txt'],
    ['aux.'],
    ['trailing dot.'],
    ['trailing space '],
    [' '],
  ])('the table name %j is refused with a clear error, database unchanged', (name) => {
    const db = new Database()
    db.createTable('users').insert({ a: 1 })
    const before = snapshot(db)
    const error = expectDictDBError(() => db.createTable(name), 'InvalidArgumentError', /not allowed/)
    expect(error.message).toMatch(/property key|file name/)
    expect(snapshot(db)).toEqual(before)
    expect(db.hasTable(name)).toBe(false)
  })

  it('an empty table name is refused', () => {
    const db = new Database()
    expectDictDBError(() => db.createTable(''), 'InvalidArgumentError', /non-empty string/)
    expect(db.listTables()).toEqual([])
  })

  it('a table named __proto__ does not exist and cannot be looked up into Object.prototype', () => {
    const db = new Database()
    expect(db.hasTable('__proto__')).toBe(false)
    expect(db.hasTable('constructor')).toBe(false)
    expect(thrown(() => db.getTable('constructor'))).toBeInstanceOf(TableNotFoundError)
  })
})

describe('close', () => {
  it('after close(), every database call throws', () => {
    const db = new Database()
    db.createTable('users')
    db.close()
    const calls: Array<() => unknown> = [
      () => db.createTable('other'),
      () => db.getTable('users'),
      () => db.hasTable('users'),
      () => db.dropTable('users'),
      () => db.listTables(),
      () => db.transaction(() => 1),
      () => db.onCommit(() => {}),
    ]
    for (const call of calls) {
      const error = thrown(call)
      expect(error).toBeInstanceOf(DictDBError)
      expect((error as DictDBError).code).toBe('InvalidStateError')
      expect((error as Error).message).toMatch(/closed/)
    }
  })

  it("after close(), every call on the database's tables throws", () => {
    const db = new Database()
    const t = db.createTable('users')
    t.insert({ a: 1 })
    db.close()
    for (const call of [() => t.select(), () => t.insert({}), () => t.get(1), () => t.count(), () => t.update({ a: 2 }), () => t.delete()]) {
      expectDictDBError(call, 'InvalidStateError', /closed/)
    }
  })

  it('close() twice is harmless', () => {
    const db = new Database()
    db.close()
    expect(() => db.close()).not.toThrow()
  })
})

describe('database options', () => {
  it('new Database() with no options works', () => {
    expect(() => new Database()).not.toThrow()
    expect(() => new Database({})).not.toThrow()
  })

  it.each([
    [{ lockTimeoutMs: -1 }, /lockTimeoutMs/, /-1/],
    [{ lockTimeoutMs: '100' }, /lockTimeoutMs/, /"100"/],
    [{ lockTimeoutMs: NaN }, /lockTimeoutMs/, /non-negative/],
    [{ shared: 'yes' }, /shared/, /boolean/],
    [{ locktimeoutms: 10 }, /locktimeoutms/, /lockTimeoutMs/],
    [{ sharde: true }, /sharde/, /shared/],
    [{ logger: 5 }, /logger/, /warn/, /error/],
    [{ logger: { error: () => {} } }, /logger/, /warn/],
  ] as Array<[object, ...RegExp[]]>)('new Database(%j) is refused with InvalidArgumentError', (options, ...patterns) => {
    const error = expectDictDBError(() => new Database(options as never), 'InvalidArgumentError', ...patterns)
    expect(error).toBeInstanceOf(InvalidArgumentError)
  })
})
