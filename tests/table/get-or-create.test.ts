import { describe, expect, it } from 'vitest'
import { Database, DuplicateKeyError, SchemaValidationError } from '../../src/index'
import { thrown, tick } from '../support/helpers'

function setup() {
  const db = new Database()
  const t = db.createTable('customers', { indexes: [{ field: 'email' }] })
  t.insert({ id: 1, email: 'ada@x.org', name: 'Ada', plan: 'pro' })
  return { db, t }
}

describe('getOrCreate', () => {
  it('getOrCreate returns the matching record with created false and inserts nothing', () => {
    const { t } = setup()
    expect(t.getOrCreate({ email: 'ada@x.org' }, { name: 'Other' })).toEqual({
      record: { id: 1, email: 'ada@x.org', name: 'Ada', plan: 'pro' },
      created: false,
    })
    expect(t.count()).toBe(1)
  })

  it('getOrCreate matches on every field of where', () => {
    const { t } = setup()
    const { created } = t.getOrCreate({ email: 'ada@x.org', plan: 'free' })
    expect(created).toBe(true)
    expect(t.count()).toBe(2)
  })

  it('getOrCreate creates a record made of defaults and where, with an assigned key', () => {
    const { t } = setup()
    const result = t.getOrCreate({ email: 'bob@x.org' }, { name: 'Bob', plan: 'free' })
    expect(result).toEqual({ record: { id: 2, email: 'bob@x.org', name: 'Bob', plan: 'free' }, created: true })
    expect(t.get(2)).toEqual(result.record)
  })

  it('getOrCreate lets where win over defaults for the same field', () => {
    const { t } = setup()
    const { record } = t.getOrCreate({ email: 'bob@x.org' }, { email: 'ignored@x.org', name: 'Bob' })
    expect(record.email).toBe('bob@x.org')
  })

  it('getOrCreate with only where creates a record of where', () => {
    const { t } = setup()
    expect(t.getOrCreate({ email: 'eve@x.org' }).record).toEqual({ id: 2, email: 'eve@x.org' })
  })

  it('getOrCreate by primary key finds or creates that key', () => {
    const { t } = setup()
    expect(t.getOrCreate({ id: 1 }).created).toBe(false)
    expect(t.getOrCreate({ id: 'k' }, { name: 'K' })).toEqual({ record: { id: 'k', name: 'K' }, created: true })
  })

  it('getOrCreate returns copies: changing the result changes nothing stored', () => {
    const { t } = setup()
    const { record } = t.getOrCreate({ email: 'ada@x.org' })
    record.name = 'changed'
    expect(t.get(1)?.name).toBe('Ada')
  })

  it('a getOrCreate whose new record fails the schema throws and stores nothing', () => {
    const db = new Database()
    const t = db.createTable('typed', { schema: { email: 'string', age: 'integer' } })
    expect(thrown(() => t.getOrCreate({ email: 'a' }, { age: 1.5 }))).toBeInstanceOf(SchemaValidationError)
    expect(t.count()).toBe(0)
  })

  it('a getOrCreate whose new record breaks a unique index throws and stores nothing', () => {
    const db = new Database()
    const t = db.createTable('u', { indexes: [{ field: 'email', unique: true }] })
    t.insert({ email: 'a', team: 1 })
    expect(thrown(() => t.getOrCreate({ email: 'a', team: 2 }))).toBeInstanceOf(DuplicateKeyError)
    expect(t.count()).toBe(1)
  })

  it('200 concurrent async callers that await between steps get exactly one record', async () => {
    const { t } = setup()
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await tick()
        if (i % 3 === 0) await Promise.resolve()
        const result = t.getOrCreate({ email: 'new@x.org' }, { name: `caller ${i}` })
        await tick()
        return result
      }),
    )
    expect(t.count({ email: 'new@x.org' })).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1)
  })

  it('200 concurrent callers that each hold the table lock across awaits get exactly one record', async () => {
    const { t } = setup()
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.lock.write(async () => {
          await tick()
          const found = t.select({ where: { email: 'locked@x.org' } })
          await Promise.resolve()
          return found.length > 0 ? { created: false } : { created: t.getOrCreate({ email: 'locked@x.org' }, { n: i }).created }
        }),
      ),
    )
    expect(t.count({ email: 'locked@x.org' })).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
  })
})
