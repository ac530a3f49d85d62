import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Database, InvalidArgumentError, SchemaValidationError, type StandardSchemaV1, type TypeSchema } from '../src/index'
import { expectDictDBError, thrown } from './support/helpers'

const SCHEMA: TypeSchema = {
  name: 'string',
  price: 'number',
  qty: 'integer',
  active: 'boolean',
  added: 'date',
  big: 'bigint',
  meta: 'object',
  tags: 'array',
  note: { type: 'string', optional: true },
}
const GOOD = { name: 'pen', price: 1.5, qty: 3, active: true, added: new Date(0), big: 1n, meta: { a: 1 }, tags: ['x'] }

function table(schema: TypeSchema | StandardSchemaV1 = SCHEMA) {
  const db = new Database()
  return { db, t: db.createTable('products', { schema }) }
}

describe('type-string schemas', () => {
  it('a record of the right types is stored', () => {
    const { t } = table()
    const id = t.insert(GOOD)
    expect(t.get(id)).toEqual({ id, ...GOOD })
  })

  it.each([
    ['name', 5, /string/],
    ['price', '1.5', /number/],
    ['qty', 1.5, /integer/],
    ['qty', '3', /integer/],
    ['active', 1, /boolean/],
    ['added', '1970-01-01', /date/],
    ['big', 1, /bigint/],
    ['meta', [1], /object/],
    ['meta', new Date(0), /object/],
    ['tags', { 0: 'x' }, /array/],
    ['note', 7, /string/],
  ] as const)('a %s of %j is refused with SchemaValidationError naming the field', (field, value, type) => {
    const { t } = table()
    const error = expectDictDBError(() => t.insert({ ...GOOD, [field]: value }), 'SchemaValidationError', new RegExp(`\`${field}\``), type)
    expect(error).toBeInstanceOf(SchemaValidationError)
    expect(error.field).toBe(field)
    expect(error.table).toBe('products')
    expect(t.count()).toBe(0)
  })

  it("'number' accepts integers and fractions, 'integer' only integers", () => {
    const { t } = table()
    expect(() => t.insert({ ...GOOD, price: 2, qty: -4 })).not.toThrow()
    expect(thrown(() => t.insert({ ...GOOD, qty: 2.25 }))).toBeInstanceOf(SchemaValidationError)
  })

  it('a required field that is missing is refused, naming it', () => {
    const { t } = table()
    const { name: _name, ...rest } = GOOD
    const error = expectDictDBError(() => t.insert(rest), 'SchemaValidationError', /`name`/, /required/)
    expect(error.field).toBe('name')
  })

  it('a required field set to null is refused', () => {
    const { t } = table()
    expect((thrown(() => t.insert({ ...GOOD, price: null })) as SchemaValidationError).field).toBe('price')
  })

  it('an optional field may be missing or null', () => {
    const { t } = table()
    t.insert(GOOD)
    t.insert({ ...GOOD, note: null })
    t.insert({ ...GOOD, note: 'n' })
    expect(t.count()).toBe(3)
  })

  it('an unknown field is refused, naming it', () => {
    const { t } = table()
    const error = expectDictDBError(() => t.insert({ ...GOOD, colour: 'red' }), 'SchemaValidationError', /`colour`/, /unknown/)
    expect(error.field).toBe('colour')
  })

  it('an unknown field with a very long name is refused with a short message that names its start', () => {
    const { t } = table()
    const name = 'colour'.repeat(1_000)
    const error = expectDictDBError(() => t.insert({ ...GOOD, [name]: 'red' }), 'SchemaValidationError', /`colourcolour.*\.\.\.`/, /unknown/)
    expect(error.message.length).toBeLessThan(1_000)
    expect(error.field).toBe(name)
  })

  it('the primary key is always allowed though not in the schema', () => {
    const { t } = table()
    expect(t.insert({ ...GOOD, id: 'p1' })).toBe('p1')
    const db = new Database()
    const s = db.createTable('s', { primaryKey: 'sku', schema: { name: 'string' } })
    expect(s.insert({ sku: 'X', name: 'pen' })).toBe('X')
  })

  it('the primary key may be declared in the schema and is then checked', () => {
    const db = new Database()
    const t = db.createTable('s', { schema: { id: 'string', name: 'string' } })
    expect(t.insert({ id: 'a', name: 'x' })).toBe('a')
    expect(thrown(() => t.insert({ id: 5, name: 'x' }))).toBeInstanceOf(SchemaValidationError)
  })

  it('an update that breaks the schema is refused and changes nothing', () => {
    const { t } = table()
    const id = t.insert(GOOD)
    expect((thrown(() => t.update({ qty: 'many' }, { id })) as SchemaValidationError).field).toBe('qty')
    expect((thrown(() => t.update({ extra: 1 }, { id })) as SchemaValidationError).field).toBe('extra')
    expect((thrown(() => t.update({ name: null }, { id })) as SchemaValidationError).field).toBe('name')
    expect(t.get(id)).toEqual({ id, ...GOOD })
  })

  it('an update that keeps the schema is applied', () => {
    const { t } = table()
    const id = t.insert(GOOD)
    t.update({ qty: 10, note: 'restocked' }, { id })
    expect(t.get(id)).toMatchObject({ qty: 10, note: 'restocked' })
  })

  it('schemaFields lists the declared fields', () => {
    const { t } = table()
    expect(t.schemaFields()).toEqual(Object.keys(SCHEMA))
  })

  it('columns lists the primary key then the declared fields', () => {
    const { t } = table()
    expect(t.columns()).toEqual(['id', ...Object.keys(SCHEMA)])
  })

  it('a misspelled key in a field definition is refused, naming the field and the key', () => {
    const db = new Database()
    expectDictDBError(() => db.createTable('bad', { schema: { a: { type: 'string', optinal: true } as never } }), 'InvalidArgumentError', /`a`/, /optinal/)
    expect(db.hasTable('bad')).toBe(false)
  })

  it('an invalid schema definition is refused when the table is created, and no table is made', () => {
    const db = new Database()
    expectDictDBError(() => db.createTable('bad', { schema: { a: 'text' as 'string' } }), 'InvalidArgumentError', /`a`/, /text/)
    expect(thrown(() => db.createTable('bad', { schema: { a: { type: 'string', optional: 'yes' } } as never }))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => db.createTable('bad', { schema: 'string' as never }))).toBeInstanceOf(InvalidArgumentError)
    expect(db.hasTable('bad')).toBe(false)
  })
})

describe('tables without a schema', () => {
  it('schemaFields is empty', () => {
    const t = new Database().createTable('free')
    expect(t.schemaFields()).toEqual([])
  })

  it('columns lists the primary key then every field seen in the records', () => {
    const t = new Database().createTable('free')
    expect(t.columns()).toEqual(['id'])
    t.insert([{ a: 1 }, { b: 2, a: 3 }])
    expect(t.columns()).toEqual(['id', 'a', 'b'])
  })

  it('any fields are accepted', () => {
    const t = new Database().createTable('free')
    t.insert([{ a: 1 }, { a: 'x', b: [1] }])
    expect(t.count()).toBe(2)
  })
})

describe('Standard Schema validators', () => {
  const Product = z.object({ name: z.string(), qty: z.number().int().min(0) })

  it('a zod schema accepts a valid record', () => {
    const { t } = table(Product)
    const id = t.insert({ name: 'pen', qty: 2 })
    expect(t.get(id)).toEqual({ id, name: 'pen', qty: 2 })
  })

  it('a zod schema rejects an invalid record with SchemaValidationError naming the field', () => {
    const { t } = table(Product)
    const error = expectDictDBError(() => t.insert({ name: 'pen', qty: -1 }), 'SchemaValidationError', /`qty`/)
    expect(error.field).toBe('qty')
    expect(t.count()).toBe(0)
  })

  it('a zod schema rejects a missing field', () => {
    const { t } = table(Product)
    expect((thrown(() => t.insert({ qty: 1 })) as SchemaValidationError).field).toBe('name')
  })

  it('a zod schema checks updates too, all or nothing', () => {
    const { t } = table(Product)
    t.insert([{ name: 'a', qty: 1 }, { name: 'b', qty: 5 }])
    expect(thrown(() => t.update({ qty: 'x' as never }))).toBeInstanceOf(SchemaValidationError)
    expect(t.select({ columns: ['qty'] })).toEqual([{ qty: 1 }, { qty: 5 }])
  })

  it('the primary key survives a zod schema that does not declare it', () => {
    const { t } = table(Product)
    expect(t.insert({ id: 'k', name: 'pen', qty: 0 })).toBe('k')
    expect(t.get('k')).toEqual({ id: 'k', name: 'pen', qty: 0 })
  })

  it('schemaFields is empty for a Standard Schema', () => {
    const { t } = table(Product)
    expect(t.schemaFields()).toEqual([])
  })

  it('a hand-written Standard Schema validator is used', () => {
    const even: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) =>
          (value as { n?: number }).n! % 2 === 0 ? { value } : { issues: [{ message: 'must be even', path: ['n'] }] },
      },
    }
    const { t } = table(even)
    t.insert({ n: 2 })
    const error = expectDictDBError(() => t.insert({ n: 3 }), 'SchemaValidationError', /must be even/)
    expect(error.field).toBe('n')
    expect(t.count()).toBe(1)
  })

  it('an asynchronous validator is refused with a clear error and nothing is stored', () => {
    const { t } = table(z.object({ name: z.string().refine(async () => true) }))
    expect((thrown(() => t.insert({ name: 'x' })) as Error).message).toMatch(/synchronous/)
    expect(t.count()).toBe(0)
  })
})
