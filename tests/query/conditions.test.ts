import { afterAll, describe, expect, it } from 'vitest'
import { Database, InvalidArgumentError, and, not, or, type Table, type Where } from '../../src/index'
import { DATABASE_KINDS, INDEX_KINDS, expectDictDBError, ids, indexFields, openDatabase, thrown } from '../support/helpers'

type Row = Record<string, unknown>

const PEOPLE: Row[] = [
  { id: 1, name: 'Alice', age: 30, city: 'Paris', tags: ['admin', 'dev'], joined: new Date('2020-01-01'), score: 10n, active: true, address: { zip: '75001', town: 'Paris' } },
  { id: 2, name: 'bob', age: 25, city: 'Lyon', tags: ['dev'], joined: new Date('2021-06-01'), score: 20n, active: false },
  { id: 3, name: 'Carol', age: null, city: 'Paris', tags: [], active: true },
  { id: 4, name: 'dave', city: null, tags: 'dev ops' },
  { id: 5, name: 'Eve', age: '30', city: 'Nice', tags: [{ role: 'dev' }] },
  { id: 6, name: '\u00c5lice', age: 40, city: 'paris', active: false, score: 5 },
  { id: 7, name: 'A_x%', age: 35.5, city: 'Lyon', tags: ['ops', null] },
]
const FIELDS = ['name', 'age', 'city', 'tags', 'joined', 'score', 'active', 'address']

/** Names where only `%` and `_` may be special. */
const SPECIAL_NAMES = ['a.c', 'abc', 'a*c', 'aac', 'a[b]c', 'a\\c', 'a+c', 'a(c', 'a$c', '^ac', 'a?c', 'a|c', 'a{1}c']

interface Case {
  readonly says: string
  readonly where: (t: Table) => Where<Row>
  readonly ids: readonly unknown[]
}

const CASES: Case[] = [
  // comparisons
  { says: 'eq matches equal values of the same type only (30, not "30")', where: (t) => t.field('age').eq(30), ids: [1] },
  { says: 'eq of a string matches only the string', where: (t) => t.field('age').eq('30'), ids: [5] },
  { says: 'eq is case-sensitive', where: (t) => t.field('name').eq('alice'), ids: [] },
  { says: 'eq of a bigint does not match the equal number', where: (t) => t.field('score').eq(5n), ids: [] },
  { says: 'eq of a Date matches the same time', where: (t) => t.field('joined').eq(new Date('2020-01-01')), ids: [1] },
  { says: 'eq of an array matches an equal array', where: (t) => t.field('tags').eq(['dev']), ids: [2] },
  { says: 'eq of an object matches an equal object whatever its key order', where: (t) => t.field('address').eq({ town: 'Paris', zip: '75001' }), ids: [1] },
  { says: 'eq of a boolean matches it', where: (t) => t.field('active').eq(false), ids: [2, 6] },
  { says: 'ne matches other values of the same type, never null, missing or another type', where: (t) => t.field('age').ne(30), ids: [2, 6, 7] },
  { says: 'ne of a boolean is false on missing fields', where: (t) => t.field('active').ne(true), ids: [2, 6] },
  { says: 'lt compares numbers only with numbers', where: (t) => t.field('age').lt(30), ids: [2] },
  { says: 'lte includes the bound', where: (t) => t.field('age').lte(30), ids: [1, 2] },
  { says: 'gt excludes the bound', where: (t) => t.field('age').gt(30), ids: [6, 7] },
  { says: 'gte includes the bound', where: (t) => t.field('age').gte(30), ids: [1, 6, 7] },
  { says: 'gt of a string compares strings only', where: (t) => t.field('age').gt('3'), ids: [5] },
  { says: 'gt of a bigint compares bigints only', where: (t) => t.field('score').gt(5n), ids: [1, 2] },
  { says: 'gte of a number ignores bigint values', where: (t) => t.field('score').gte(5), ids: [6] },
  { says: 'gt of a Date compares dates', where: (t) => t.field('joined').gt(new Date('2020-06-01')), ids: [2] },
  { says: 'lt of a Date is false on a missing field', where: (t) => t.field('joined').lt(new Date('2030-01-01')), ids: [1, 2] },
  { says: 'comparisons of strings are case-sensitive (code unit order)', where: (t) => t.field('city').lt('Z'), ids: [1, 2, 3, 5, 7] },
  { says: 'a range on a boolean field compares booleans', where: (t) => t.field('active').gt(false), ids: [1, 3] },
  { says: 'isIn matches any listed value, each of its own type', where: (t) => t.field('age').isIn([25, 40, '30']), ids: [2, 5, 6] },
  { says: 'isIn of an empty list matches nothing', where: (t) => t.field('age').isIn([]), ids: [] },
  { says: 'isIn with null matches null and missing', where: (t) => t.field('age').isIn([null, 25]), ids: [2, 3, 4] },
  { says: 'between is inclusive at both ends', where: (t) => t.field('age').between(25, 35.5), ids: [1, 2, 7] },
  { says: 'between with equal bounds matches that value', where: (t) => t.field('age').between(30, 30), ids: [1] },
  { says: 'between with reversed bounds matches nothing', where: (t) => t.field('age').between(40, 25), ids: [] },
  { says: 'between of dates matches dates in the range', where: (t) => t.field('joined').between(new Date('2019-01-01'), new Date('2020-01-01')), ids: [1] },
  { says: 'between with bounds of different types matches nothing', where: (t) => t.field('age').between(1, 'z'), ids: [] },
  // null
  { says: 'isNull matches null and missing', where: (t) => t.field('age').isNull(), ids: [3, 4] },
  { says: 'eq(null) is isNull', where: (t) => t.field('age').eq(null), ids: [3, 4] },
  { says: 'isNotNull matches present non-null values', where: (t) => t.field('age').isNotNull(), ids: [1, 2, 5, 6, 7] },
  { says: 'ne(null) is isNotNull', where: (t) => t.field('age').ne(null), ids: [1, 2, 5, 6, 7] },
  { says: 'isNull on a field nobody has matches every record', where: (t) => t.field('nothing').isNull(), ids: [1, 2, 3, 4, 5, 6, 7] },
  { says: 'every comparison on a field nobody has is false', where: (t) => or(t.field('nothing').ne(1), t.field('nothing').lt(1), t.field('nothing').gte(0)), ids: [] },
  // strings
  { says: 'like: % matches any run, and like is case-sensitive', where: (t) => t.field('name').like('A%'), ids: [1, 7] },
  { says: 'like: % matches the empty run too', where: (t) => t.field('name').like('%bob%'), ids: [2] },
  { says: 'like: _ matches exactly one character', where: (t) => t.field('name').like('b_b'), ids: [2] },
  { says: 'like: _ counts a non-ASCII letter as one character', where: (t) => t.field('name').like('_lice'), ids: [1, 6] },
  { says: 'like: a run of _ needs that many characters', where: (t) => t.field('name').like('___'), ids: [2, 5] },
  { says: 'like matches the whole value, not a part', where: (t) => t.field('name').like('lic'), ids: [] },
  { says: 'like: % and _ in the value are matched by the pattern like any character', where: (t) => t.field('name').like('A_x%'), ids: [7] },
  { says: 'like is false on non-string fields', where: (t) => t.field('age').like('3%'), ids: [5] },
  { says: 'ilike ignores case', where: (t) => t.field('name').ilike('a%'), ids: [1, 7] },
  { says: 'ilike ignores case at the end too', where: (t) => t.field('name').ilike('%LICE'), ids: [1, 6] },
  { says: 'startsWith is case-sensitive', where: (t) => t.field('name').startsWith('A'), ids: [1, 7] },
  { says: 'startsWith treats % and _ literally', where: (t) => t.field('name').startsWith('A_x%'), ids: [7] },
  { says: 'startsWith is false on non-string fields', where: (t) => t.field('age').startsWith('3'), ids: [5] },
  { says: 'endsWith matches the end', where: (t) => t.field('name').endsWith('e'), ids: [1, 4, 5, 6] },
  { says: 'contains on a string field is a substring test', where: (t) => t.field('name').contains('li'), ids: [1, 6] },
  { says: 'contains on an array field is an element test, and a substring test on a string field', where: (t) => t.field('tags').contains('dev'), ids: [1, 2, 4] },
  { says: 'contains finds an object element by value', where: (t) => t.field('tags').contains({ role: 'dev' }), ids: [5] },
  { says: 'contains is false on other types', where: (t) => t.field('age').contains(3), ids: [] },
  { says: 'contains does not match part of an array element', where: (t) => t.field('tags').contains('ad'), ids: [] },
  { says: 'iequals ignores case', where: (t) => t.field('name').iequals('ALICE'), ids: [1] },
  { says: 'icontains ignores case', where: (t) => t.field('name').icontains('LI'), ids: [1, 6] },
  { says: 'istartsWith ignores case', where: (t) => t.field('name').istartsWith('a'), ids: [1, 7] },
  { says: 'iendsWith ignores case', where: (t) => t.field('name').iendsWith('VE'), ids: [4, 5] },
  { says: 'case-insensitive operators are false on non-string fields', where: (t) => t.field('tags').icontains('DEV'), ids: [4] },
  // combinators
  { says: 'and() holds when every condition holds', where: (t) => and(t.field('age').gte(25), t.field('city').eq('Paris')), ids: [1] },
  { says: 'c1.and(c2) is and(c1, c2)', where: (t) => t.field('age').gte(25).and(t.field('city').eq('Paris')), ids: [1] },
  { says: 'and() of three conditions needs all three', where: (t) => and(t.field('city').eq('Lyon'), t.field('age').gt(20), t.field('name').startsWith('A')), ids: [7] },
  { says: 'and() of one condition is that condition', where: (t) => and(t.field('city').eq('Lyon')), ids: [2, 7] },
  { says: 'or() holds when any condition holds', where: (t) => or(t.field('city').eq('Nice'), t.field('age').eq(25)), ids: [2, 5] },
  { says: 'c1.or(c2) is or(c1, c2)', where: (t) => t.field('city').eq('Nice').or(t.field('age').eq(25)), ids: [2, 5] },
  { says: 'or() of indexed and unindexed conditions finds both', where: (t) => or(t.field('age').eq(40), t.field('id').gt(6)), ids: [6, 7] },
  { says: 'not() negates a condition', where: (t) => not(t.field('city').eq('Paris')), ids: [2, 4, 5, 6, 7] },
  { says: 'c.not() is not(c)', where: (t) => t.field('city').eq('Paris').not(), ids: [2, 4, 5, 6, 7] },
  { says: 'not(isNull) is isNotNull', where: (t) => not(t.field('age').isNull()), ids: [1, 2, 5, 6, 7] },
  { says: 'combinators nest', where: (t) => or(and(t.field('city').eq('Paris'), t.field('active').eq(true)), not(t.field('age').lte(100)).and(t.field('city').isNotNull())), ids: [1, 3, 5] },
  // primary key
  { says: 'eq on the primary key finds that record', where: (t) => t.field('id').eq(3), ids: [3] },
  { says: 'isIn on the primary key finds the listed records that exist', where: (t) => t.field('id').isIn([7, 1, 99, 1]), ids: [1, 7] },
  { says: 'a range on the primary key works', where: (t) => t.field('id').gt(5), ids: [6, 7] },
  // plain objects and predicates
  { says: 'a plain object where means every field equal', where: () => ({ city: 'Paris', active: true }), ids: [1, 3] },
  { says: 'a plain object where with one field is eq', where: () => ({ city: 'Lyon' }), ids: [2, 7] },
  { says: 'a plain object where with null means null or missing', where: () => ({ age: null }), ids: [3, 4] },
  { says: 'a plain object where compares arrays and dates by value', where: () => ({ tags: ['dev'], joined: new Date('2021-06-01') }), ids: [2] },
  { says: 'a plain object where on the primary key finds that record', where: () => ({ id: 5 }), ids: [5] },
  { says: 'an empty plain object where matches everything', where: () => ({}), ids: [1, 2, 3, 4, 5, 6, 7] },
  { says: 'a predicate where keeps the records it returns true for', where: () => (r: Row) => typeof r.age === 'number' && r.age > 26, ids: [1, 6, 7] },
]

describe.each(DATABASE_KINDS)('conditions on a %s database', (dbKind) => {
  describe.each(INDEX_KINDS)('with %s index on every field', (kind) => {
    describe.each([true, false])('copy: %s', (copy) => {
      const db = openDatabase(dbKind)
      afterAll(() => db.close())
      const t = db.createTable('people')
      indexFields(t, kind, FIELDS)
      t.insert(PEOPLE)
      const specials = db.createTable('specials')
      indexFields(specials, kind, ['name'])
      specials.insert(SPECIAL_NAMES.map((name) => ({ name })))
      const likeNames = (pattern: string) => specials.select({ where: specials.field('name').like(pattern), copy }).map((r) => r.name)

      it.each(CASES)('$says', ({ where, ids: expected }) => {
        expect(ids(t.select({ where: where(t), copy }))).toEqual(expected)
        expect(t.count(where(t))).toBe(expected.length)
      })

      it.each(SPECIAL_NAMES)('like(%j): every character but % and _ is literal', (name) => {
        expect(likeNames(name)).toEqual([name])
      })

      it('like: % and _ stay wildcards among literal special characters', () => {
        expect(likeNames('a_c')).toEqual(SPECIAL_NAMES.filter((n) => n.length === 3 && n.startsWith('a') && n.endsWith('c')))
        expect(likeNames('a%c')).toEqual(SPECIAL_NAMES.filter((n) => n.startsWith('a') && n.endsWith('c')))
        expect(likeNames('%[%')).toEqual(['a[b]c'])
      })

      it('ilike treats special characters literally too', () => {
        expect(specials.select({ where: specials.field('name').ilike('A.C'), copy }).map((r) => r.name)).toEqual(['a.c'])
      })

      it('a predicate where receives each stored record', () => {
        const seen: unknown[] = []
        t.select({ where: (r) => (seen.push(r.id), false), copy })
        expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
      })
    })
  })
})

describe('condition builders', () => {
  const t = new Database().createTable('t')

  it('and() with no conditions is an error', () => {
    expectDictDBError(() => and(), 'InvalidArgumentError', /and\(\)/, /one or more/)
  })

  it('or() with no conditions is an error', () => {
    expectDictDBError(() => or(), 'InvalidArgumentError', /or\(\)/, /one or more/)
  })

  it('not() with two conditions is an error, not the second one ignored', () => {
    expectDictDBError(() => (not as (...c: unknown[]) => unknown)(t.field('a').eq(1), t.field('b').eq(2)), 'InvalidArgumentError', /not\(\)/, /one condition/, /and\(|or\(/)
  })

  it('and() and or() refuse something that is not a condition', () => {
    expect(thrown(() => and(t.field('a').eq(1), { a: 1 } as never))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => or(null as never))).toBeInstanceOf(InvalidArgumentError)
    expect(thrown(() => not('a' as never))).toBeInstanceOf(InvalidArgumentError)
  })

  it('a condition is plain, serializable data', () => {
    const c = and(t.field('age').between(1, 9), t.field('name').like('A%').not())
    expect(JSON.parse(JSON.stringify(c))).toEqual({
      op: 'and',
      items: [
        { op: 'between', field: 'age', lo: 1, hi: 9 },
        { op: 'not', item: { op: 'like', field: 'name', value: 'A%' } },
      ],
    })
  })

  it('a condition keeps a copy of its operands', () => {
    const tags = ['a']
    const c = t.field('tags').eq(tags)
    tags.push('b')
    const db = new Database()
    const u = db.createTable('u')
    u.insert({ tags: ['a'] })
    expect(u.count(c)).toBe(1)
  })

  it('conditions are immutable', () => {
    const c = t.field('a').eq(1)
    expect(Object.isFrozen(c)).toBe(true)
  })
})
