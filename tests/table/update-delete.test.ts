import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  Database,
  DuplicateKeyError,
  InvalidArgumentError,
  RecordNotFoundError,
  SchemaValidationError,
  increment,
  type Table,
} from '../../src/index'
import { INDEX_KINDS, expectDictDBError, ids, indexFields, thrown } from '../support/helpers'

function setup(): { db: Database; t: Table } {
  const db = new Database()
  const t = db.createTable('accounts')
  t.insert([
    { id: 'a', owner: 'Ann', balance: 100, team: 'x' },
    { id: 'b', owner: 'Ben', balance: 50, team: 'x' },
    { id: 'c', owner: 'Cat', balance: 0, team: 'y' },
  ])
  return { db, t }
}

describe('update', () => {
  it('update returns how many records it changed', () => {
    const { t } = setup()
    expect(t.update({ team: 'z' }, { team: 'x' })).toBe(2)
    expect(t.select({ where: { team: 'z' }, columns: ['id'] })).toEqual([{ id: 'a' }, { id: 'b' }])
  })

  it('update without where changes every record', () => {
    const { t } = setup()
    expect(t.update({ active: true })).toBe(3)
    expect(t.count({ active: true })).toBe(3)
  })

  it('update merges the changed fields and keeps the others', () => {
    const { t } = setup()
    t.update({ balance: 1, note: 'n' }, { id: 'a' })
    expect(t.get('a')).toEqual({ id: 'a', owner: 'Ann', balance: 1, team: 'x', note: 'n' })
  })

  it('update to null clears a field value', () => {
    const { t } = setup()
    t.update({ team: null }, { id: 'c' })
    expect(t.get('c')).toEqual({ id: 'c', owner: 'Cat', balance: 0, team: null })
  })

  it('update that matches nothing throws RecordNotFoundError and changes nothing', () => {
    const { t } = setup()
    const before = t.all()
    const error = expectDictDBError(() => t.update({ team: 'z' }, { team: 'nope' }), 'RecordNotFoundError', /accounts/)
    expect(error).toBeInstanceOf(RecordNotFoundError)
    expect(error.table).toBe('accounts')
    expect(t.all()).toEqual(before)
  })

  it('update of an empty table throws RecordNotFoundError', () => {
    const t = new Database().createTable('empty')
    expect(thrown(() => t.update({ a: 1 }))).toBeInstanceOf(RecordNotFoundError)
  })

  it('update accepts a condition and a predicate as where', () => {
    const { t } = setup()
    expect(t.update({ rich: true }, t.field('balance').gte(50))).toBe(2)
    expect(t.update({ poor: true }, (r) => r.balance === 0)).toBe(1)
    expect(ids(t.select({ where: { rich: true } }))).toEqual(['a', 'b'])
    expect(ids(t.select({ where: { poor: true } }))).toEqual(['c'])
  })

  it('update stores a copy of the new values', () => {
    const { t } = setup()
    const prefs = { tags: ['a'] }
    t.update({ prefs }, { id: 'a' })
    prefs.tags.push('b')
    expect(t.get('a')?.prefs).toEqual({ tags: ['a'] })
  })

  it('update to a value the schema refuses throws SchemaValidationError and changes nothing', () => {
    const db = new Database()
    const t = db.createTable('typed', { schema: { n: 'number' } })
    t.insert([{ id: 1, n: 1 }, { id: 2, n: 2 }])
    expect(thrown(() => t.update({ n: 'x' }))).toBeInstanceOf(SchemaValidationError)
    expect(t.all()).toEqual([{ id: 1, n: 1 }, { id: 2, n: 2 }])
  })

  it('update is all-or-nothing: one record failing validation after others passed leaves every record unchanged', () => {
    const db = new Database()
    const t = db.createTable('wallets', { schema: z.object({ balance: z.number().min(0) }) })
    t.insert([{ id: 1, balance: 100 }, { id: 2, balance: 50 }, { id: 3, balance: 200 }])
    expect(thrown(() => t.update({ balance: increment(-60) }))).toBeInstanceOf(SchemaValidationError)
    expect(t.all()).toEqual([{ id: 1, balance: 100 }, { id: 2, balance: 50 }, { id: 3, balance: 200 }])
  })

  it('update is all-or-nothing: one record violating a unique index leaves every record unchanged', () => {
    const db = new Database()
    const t = db.createTable('u', { indexes: [{ field: 'email', unique: true }] })
    t.insert([{ id: 1, email: 'a' }, { id: 2, email: 'b' }, { id: 3, email: 'c' }])
    expect(thrown(() => t.update({ email: 'same' }, t.field('id').isIn([1, 2])))).toBeInstanceOf(DuplicateKeyError)
    expect(t.all()).toEqual([{ id: 1, email: 'a' }, { id: 2, email: 'b' }, { id: 3, email: 'c' }])
    expect(ids(t.select({ where: { email: 'a' } }))).toEqual([1])
    expect(t.select({ where: { email: 'same' } })).toEqual([])
  })

  it('update cannot change the primary key', () => {
    const { t } = setup()
    expectDictDBError(() => t.update({ id: 'z' }, { id: 'a' }), 'InvalidArgumentError', /primary key/)
    expect(t.get('a')).toBeDefined()
    expect(t.get('z')).toBeUndefined()
  })

  it('update by key takes changes and a where made without a prototype or with a field named constructor', () => {
    const { t } = setup()
    const changes = Object.assign(Object.create(null) as Record<string, unknown>, { balance: 7 })
    const where = Object.assign(Object.create(null) as Record<string, unknown>, { id: 'a' })
    expect(t.update(changes, where)).toBe(1)
    expect(t.update({ constructor: 'x' }, { id: 'b' })).toBe(1)
    expect(t.get('a')).toMatchObject({ balance: 7 })
    expect(t.get('b')).toMatchObject({ constructor: 'x' })
  })

  it('update refuses changes made by a class, even one whose fields are all values', () => {
    const { t } = setup()
    class Changes {
      balance = 1
    }
    expectDictDBError(() => t.update(new Changes() as never, { id: 'a' }), 'InvalidArgumentError', /plain object/)
    expect(t.get('a')).toMatchObject({ balance: 100 })
  })

  it('get after an update by key that adds a field returns the new field too', () => {
    const { t } = setup()
    t.update({ balance: increment(1) }, { id: 'a' })
    t.update({ note: 'new' }, { id: 'a' })
    expect(t.get('a')).toEqual({ id: 'a', owner: 'Ann', balance: 101, team: 'x', note: 'new' })
  })

  it('get after an update by key that stores an object returns a copy of it that can be changed freely', () => {
    const { t } = setup()
    t.update({ balance: increment(1) }, { id: 'a' })
    t.update({ team: { name: 'x' } }, { id: 'a' })
    const copy = t.get('a') as { team: { name: string } }
    expect(Object.isFrozen(copy.team)).toBe(false)
    copy.team.name = 'changed'
    expect(t.get('a')).toMatchObject({ team: { name: 'x' } })
  })

  it('update with several fields by key changes each of them', () => {
    const { t } = setup()
    t.update({ balance: increment(5), team: 'z', owner: 'Anne' }, { id: 'a' })
    expect(t.get('a')).toEqual({ id: 'a', owner: 'Anne', balance: 105, team: 'z' })
  })
})

describe('update with increment', () => {
  it('increment adds a positive amount to the stored value', () => {
    const { t } = setup()
    t.update({ balance: increment(25) }, { id: 'a' })
    expect(t.get('a')?.balance).toBe(125)
  })

  it('increment with a negative amount subtracts', () => {
    const { t } = setup()
    t.update({ balance: increment(-30) }, { id: 'a' })
    expect(t.get('a')?.balance).toBe(70)
  })

  it('increment applies to each matching record from its own value', () => {
    const { t } = setup()
    expect(t.update({ balance: increment(10) }, { team: 'x' })).toBe(2)
    expect(t.select({ columns: ['id', 'balance'] })).toEqual([
      { id: 'a', balance: 110 },
      { id: 'b', balance: 60 },
      { id: 'c', balance: 0 },
    ])
  })

  it('increment of a missing field counts it as 0', () => {
    const { t } = setup()
    t.update({ visits: increment(3) }, { id: 'a' })
    expect(t.get('a')?.visits).toBe(3)
  })

  it('increment of a null field counts it as 0', () => {
    const { t } = setup()
    t.update({ visits: null }, { id: 'a' })
    t.update({ visits: increment(-2) }, { id: 'a' })
    expect(t.get('a')?.visits).toBe(-2)
  })

  it('increment works on bigint values with a bigint amount', () => {
    const t = new Database().createTable('big')
    t.insert({ id: 1, n: 9007199254740993n })
    t.update({ n: increment(10n) }, { id: 1 })
    expect(t.get(1)?.n).toBe(9007199254741003n)
    t.update({ m: increment(-1n) }, { id: 1 })
    expect(t.get(1)?.m).toBe(-1n)
  })

  it('increment of a string field is an error and changes nothing', () => {
    const { t } = setup()
    expectDictDBError(() => t.update({ owner: increment(1) }, { id: 'a' }), 'InvalidArgumentError', /owner/)
    expect(t.get('a')?.owner).toBe('Ann')
  })

  it('increment mixing number and bigint is an error and changes nothing', () => {
    const { t } = setup()
    expect(thrown(() => t.update({ balance: increment(1n) }, { id: 'a' }))).toBeInstanceOf(InvalidArgumentError)
    expect(t.get('a')?.balance).toBe(100)
  })

  it('an increment type mismatch on one record leaves every record unchanged', () => {
    const { t } = setup()
    t.update({ score: 1 }, { id: 'a' })
    t.update({ score: 'high' }, { id: 'c' })
    expect(thrown(() => t.update({ score: increment(1), balance: increment(1) }))).toBeInstanceOf(InvalidArgumentError)
    expect(t.select({ columns: ['balance', 'score'] })).toEqual([
      { balance: 100, score: 1 },
      { balance: 50, score: null },
      { balance: 0, score: 'high' },
    ])
  })

  it.each([NaN, Infinity, '1', null])('increment(%s) is refused', (n) => {
    expect(thrown(() => increment(n as number))).toBeInstanceOf(InvalidArgumentError)
  })

  it('an increment cannot be changed once made, so one shared by many updates adds the same amount', () => {
    const { t } = setup()
    const bump = increment(5)
    expect(() => Object.assign(bump, { by: 1000 })).toThrow(TypeError)
    t.update({ balance: bump }, { id: 'a' })
    t.update({ balance: bump }, { id: 'b' })
    expect([t.get('a')?.balance, t.get('b')?.balance, bump.by]).toEqual([105, 55, 5])
  })

  it('increments under a transaction add up', () => {
    const { db, t } = setup()
    db.transaction(() => {
      for (let i = 0; i < 10; i++) t.update({ balance: increment(1) }, { id: 'c' })
    })
    expect(t.get('c')?.balance).toBe(10)
  })
})

describe('delete', () => {
  it('delete returns how many records it removed', () => {
    const { t } = setup()
    expect(t.delete({ team: 'x' })).toBe(2)
    expect(ids(t.all())).toEqual(['c'])
  })

  it('delete without where removes every record', () => {
    const { t } = setup()
    expect(t.delete()).toBe(3)
    expect(t.count()).toBe(0)
  })

  it('delete that matches nothing throws RecordNotFoundError and removes nothing', () => {
    const { t } = setup()
    expect(thrown(() => t.delete({ id: 'nope' }))).toBeInstanceOf(RecordNotFoundError)
    expect(t.count()).toBe(3)
  })

  it('delete accepts a condition and a predicate as where', () => {
    const { t } = setup()
    expect(t.delete(t.field('balance').lt(10))).toBe(1)
    expect(t.delete((r) => r.owner === 'Ben')).toBe(1)
    expect(ids(t.all())).toEqual(['a'])
  })

  it('a deleted key can be inserted again', () => {
    const { t } = setup()
    t.delete({ id: 'a' })
    t.insert({ id: 'a', owner: 'New' })
    expect(t.get('a')).toEqual({ id: 'a', owner: 'New' })
  })
})

describe.each(INDEX_KINDS)('update and delete keep a %s index in step', (kind) => {
  function indexed() {
    const { db, t } = setup()
    indexFields(t, kind, ['team', 'balance'])
    return { db, t }
  }

  it('an updated value is found under its new value and not its old one', () => {
    const { t } = indexed()
    t.update({ team: 'y', balance: 7 }, { id: 'a' })
    expect(ids(t.select({ where: { team: 'y' } }))).toEqual(['a', 'c'])
    expect(ids(t.select({ where: { team: 'x' } }))).toEqual(['b'])
    expect(ids(t.select({ where: t.field('balance').between(5, 10) }))).toEqual(['a'])
    expect(t.select({ where: { balance: 100 } })).toEqual([])
  })

  it('a deleted record is no longer found through the index', () => {
    const { t } = indexed()
    t.delete({ team: 'x' })
    expect(t.select({ where: { team: 'x' } })).toEqual([])
    expect(t.select({ where: t.field('balance').gt(10) })).toEqual([])
  })

  it('a rolled-back update leaves the index as before', () => {
    const { db, t } = indexed()
    expect(() =>
      db.transaction(() => {
        t.update({ team: 'q', balance: increment(1) })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(ids(t.select({ where: { team: 'x' } }))).toEqual(['a', 'b'])
    expect(t.select({ where: { team: 'q' } })).toEqual([])
    expect(ids(t.select({ where: t.field('balance').gte(50) }))).toEqual(['a', 'b'])
  })
})
