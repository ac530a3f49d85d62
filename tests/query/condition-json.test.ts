import { describe, expect, it } from 'vitest'
import { Condition, Database, Field, and, not, or } from '../../src/index'
import { expectDictDBError } from '../support/helpers'

const age = new Field('age')
const name = new Field('name')

describe('Condition.from(json)', () => {
  it('rebuilds a condition from the text of JSON.stringify(condition), matching the same rows', () => {
    const db = new Database()
    const users = db.createTable('users')
    users.insert([{ name: 'Ada', age: 36 }, { name: 'Alan', age: 41 }, { name: 'Grace', age: null }])
    const original = or(and(age.gte(40), name.like('A%')), age.isNull())
    const revived = Condition.from(JSON.stringify(original))
    expect(revived).toBeInstanceOf(Condition)
    expect(users.select({ where: revived })).toEqual(users.select({ where: original }))
    expect(revived.node).toEqual(original.node)
  })

  it('accepts the parsed JSON as well as the text', () => {
    const c = not(age.isIn([1, 2]))
    expect(Condition.from(JSON.parse(JSON.stringify(c))).node).toEqual(c.node)
  })

  it('round-trips a -0 operand as -0', () => {
    const revived = Condition.from(JSON.stringify(new Field('z').eq({ z: -0 })))
    expect(Object.is((revived.node as any).value.z, -0)).toBe(true)
  })

  it('round-trips Date and bigint values (tagged as in the JSON file format)', () => {
    const c = and(new Field('born').between(new Date(0), new Date(1000)), new Field('big').eq(10n ** 20n), new Field('meta').eq({ $x: 1 }))
    const text = JSON.stringify(c)
    expect(text).toContain('"$date"')
    expect(Condition.from(text).node).toEqual(c.node)
  })

  const cases: Array<[string, unknown, ...RegExp[]]> = [
    ['text that is not JSON', '{op:', /not JSON/],
    ['an unknown op', { op: 'gtx', field: 'a', value: 1 }, /unknown `op`/, /gtx/],
    ['a function leaf', { op: 'fn' }, /function condition has no JSON form/],
    ['a missing field name', { op: 'eq', value: 1 }, /`condition\.field`/, /non-empty string/],
    ['a missing value', { op: 'eq', field: 'a' }, /`condition\.value` is missing/],
    ['an extra key', { op: 'isNull', field: 'a', value: 1 }, /unexpected key `value`/],
    ['an empty and', { op: 'and', items: [] }, /non-empty array/],
    ['a bad nested node', { op: 'not', item: { op: 'in', field: 'a', values: 5 } }, /`condition\.item\.values`/],
    ['a string op with a number', { op: 'like', field: 'a', value: 5 }, /should be a string/],
    ['an unstorable value', { op: 'eq', field: 'a', value: { $date: 'not a date' } }, /malformed tag/],
    ['null', null, /should be an object/],
  ]
  it.each(cases)('refuses %s with InvalidArgumentError', (_, json, ...patterns) => {
    expectDictDBError(() => Condition.from(json), 'InvalidArgumentError', ...patterns)
  })
})
