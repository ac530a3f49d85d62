import { describe, expect, it } from 'vitest'
import { DictDBError, and, avg, count, increment, max, min, not, or, sum } from '../src/index'
import { any, world, type World } from './support/bad-input-world'
import { expectDictDBError, snapshot } from './support/helpers'

// Each bad call gets a clear DictDBError and leaves the database as it was; the fuzz of every
// argument is tests/bad-input-fuzz.test.ts.

type Case = readonly [says: string, call: (w: World) => unknown, patterns: readonly RegExp[], code?: string]

const CASES: Case[] = [
  // insert
  ['insert(null)', ({ users }) => users.insert(any(null)), [/plain object/, /null/]],
  ['insert(42)', ({ users }) => users.insert(any(42)), [/plain object/, /`42` \(number\)/]],
  ['insert("text")', ({ users }) => users.insert(any('text')), [/plain object/, /text/]],
  ['insert(a Date)', ({ users }) => users.insert(any(new Date(0))), [/plain object/, /Date/]],
  ['insert(a class instance)', ({ users }) => users.insert(any(new (class Rec { a = 1 })())), [/plain object/]],
  ['insert of a list holding a non-object', ({ users }) => users.insert([{ name: 'x' }, any(7)]), [/plain object/, /7/]],
  ['insert with a boolean key', ({ users }) => users.insert({ id: true }), [/primary key `id`/, /string or a finite number/, /true/]],
  ['insert with an object key', ({ users }) => users.insert({ id: { a: 1 } }), [/primary key/, /object/]],
  ['insert with a bigint key', ({ users }) => users.insert({ id: 5n }), [/primary key/, /5n/]],
  ['insert with a NaN key', ({ users }) => users.insert({ id: NaN }), [/primary key/, /finite/]],
  ['insert with a misspelled option', ({ users }) => users.insert([{}], any({ skipvalidation: true })), [/`skipvalidation`/, /`skipValidation`/]],
  ['insert with a non-boolean skipValidation', ({ users }) => users.insert([{}], any({ skipValidation: 'yes' })), [/`skipValidation`/, /boolean/, /yes/]],
  ['insert with options that are not an object', ({ users }) => users.insert([{}], any('fast')), [/options/, /fast/]],
  ['insert of a duplicate key', ({ users }) => users.insert({ id: 1 }), [/Duplicate/, /1/], 'DuplicateKeyError'],
  ['insert of a taken unique value', ({ users }) => users.insert({ email: 'ada@x' }), [/email/, /ada@x/], 'DuplicateKeyError'],
  ['insert failing the schema', ({ typed }) => typed.insert({ name: 5 }), [/`name`/, /string/, /5/], 'SchemaValidationError'],
  ['insert of an unknown field under a schema', ({ typed }) => typed.insert({ name: 'x', colour: 'red' }), [/`colour`/], 'SchemaValidationError'],
  // upsert
  ['upsert(null)', ({ users }) => users.upsert(any(null)), [/plain object/, /null/]],
  ['upsert with a misspelled option', ({ users }) => users.upsert({ id: 1 }, any({ onconflict: 'ignore' })), [/`onconflict`/, /`onConflict`/]],
  ['upsert with an unknown onConflict', ({ users }) => users.upsert({ id: 1 }, any({ onConflict: 'replace' })), [/'update', 'ignore' or 'error'/, /replace/]],
  ['upsert with a bad key', ({ users }) => users.upsert({ id: [1] }), [/primary key/, /array/]],
  ['upsert with an unstorable value', ({ users }) => users.upsert({ id: 1, f: () => 1 }), [/Cannot store/, /function/]],
  ['select with a Map as options', ({ users }) => users.select(any(new Map([['limit', 1]]))), [/options/, /Map/]],
  ['createTable with a Date as options', ({ db }) => db.createTable('t', any(new Date(0))), [/options/, /Date/]],
  ['aggregate of a Map of aggregations', ({ users }) => users.aggregate(any(new Map([['n', count()]]))), [/aggregate/, /Map/]],
  // get
  ['get(true)', ({ users }) => users.get(any(true)), [/primary key/, /true/]],
  ['get({})', ({ users }) => users.get(any({})), [/primary key/, /object/]],
  ['get(Infinity)', ({ users }) => users.get(Infinity), [/primary key/, /finite/, /`Infinity` \(number\)/]],
  // select
  ['select with orderby', ({ users }) => users.select(any({ orderby: 'age' })), [/`orderby`/, /`orderBy`/]],
  ['select with wher', ({ users }) => users.select(any({ wher: { id: 1 } })), [/`wher`/, /`where`/]],
  ['select with sort', ({ users }) => users.select(any({ sort: 'age' })), [/`sort`/, /orderBy/]],
  ['select with options that are not an object', ({ users }) => users.select(any('age')), [/options/, /age/]],
  ['select with where a number', ({ users }) => users.select({ where: any(42) }), [/Condition, a plain object/, /42/]],
  ['select with where a string', ({ users }) => users.select({ where: any('id = 1') }), [/Condition/, /id = 1/]],
  ['select with where an array', ({ users }) => users.select({ where: any([{ id: 1 }]) }), [/Condition/, /array/]],
  ['select with where a Date', ({ users }) => users.select({ where: any(new Date(0)) }), [/Condition/, /Date/]],
  ['select with where null', ({ users }) => users.select({ where: any(null) }), [/Condition/, /null/]],
  ['select with a where field set to undefined', ({ users }) => users.select({ where: { age: undefined } }), [/`where\.age`/, /undefined/]],
  ['select with a where value that is a function', ({ users }) => users.select({ where: { age: any(() => 1) } }), [/where\.age/, /function/]],
  ['select with a negative limit', ({ users }) => users.select({ limit: -1 }), [/`limit`/, /non-negative integer/, /`-1` \(number\)/]],
  ['select with a fractional limit', ({ users }) => users.select({ limit: 2.5 }), [/`limit`/, /2\.5/]],
  ['select with a string limit', ({ users }) => users.select({ limit: any('10') }), [/`limit`/, /"10"/]],
  ['select with a negative offset', ({ users }) => users.select({ offset: -3 }), [/`offset`/, /-3/]],
  ['select with a non-boolean copy', ({ users }) => users.select({ copy: any('no') }), [/`copy`/, /boolean/, /no/]],
  ['select with a non-boolean distinct', ({ users }) => users.select({ distinct: any(1) }), [/`distinct`/, /boolean/, /1/]],
  ['select with orderBy a number', ({ users }) => users.select({ orderBy: any(5) }), [/`orderBy`/, /field name/, /5/]],
  ['select with orderBy an empty string', ({ users }) => users.select({ orderBy: any('') }), [/`orderBy`/, /field name/]],
  ['select with orderBy a bare minus', ({ users }) => users.select({ orderBy: any(['age', '-']) }), [/`orderBy`/, /-/]],
  ['select with columns a string', ({ users }) => users.select({ columns: any('name') }), [/`columns`/, /list of fields/, /name/]],
  ['select with columns holding a number', ({ users }) => users.select({ columns: any([1]) }), [/`columns`/, /non-empty strings/]],
  ['select with columns an empty list', ({ users }) => users.select({ columns: [] }), [/`columns`/, /at least one field/, /\[\]/]],
  ['select with columns an empty object', ({ users }) => users.select({ columns: {} }), [/`columns`/, /at least one field/]],
  // update
  ['update(null)', ({ users }) => users.update(any(null)), [/changes/, /plain object/, /null/]],
  ['update(a Condition)', ({ users }) => users.update(any(users.field('a').eq(1))), [/changes/, /plain object/]],
  ['update with no field', ({ users }) => users.update({}), [/at least one field/]],
  ['update of the primary key', ({ users }) => users.update({ id: 9 }), [/primary key/, /`id`/]],
  ['update with a field set to undefined', ({ users }) => users.update({ age: undefined }), [/`age`/, /undefined/, /null/]],
  ['update with an unstorable value', ({ users }) => users.update({ age: any(Symbol('s')) }), [/Cannot store/, /symbol/]],
  ['update with where a number', ({ users }) => users.update({ age: 1 }, any(42)), [/Condition/, /42/]],
  ['update with an increment of a string field', ({ users }) => users.update({ name: increment(1) }), [/increment/, /`name`/, /Ada/]],
  ['update with increment(NaN)', ({ users }) => users.update({ age: increment(NaN) }), [/increment\(\)/, /finite number or a bigint/, /`NaN` \(number\)/]],
  ['update that matches nothing', ({ users }) => users.update({ age: 1 }, { id: 99 }), [/matched no record/, /`users`/], 'RecordNotFoundError'],
  ['update to a taken unique value', ({ users }) => users.update({ email: 'ada@x' }, { id: 2 }), [/email/], 'DuplicateKeyError'],
  ['update failing the schema', ({ typed }) => typed.update({ qty: 1.5 }), [/`qty`/, /integer/, /1\.5/], 'SchemaValidationError'],
  // delete
  ['delete(42)', ({ users }) => users.delete(any(42)), [/Condition/, /42/]],
  ['delete("all")', ({ users }) => users.delete(any('all')), [/Condition/, /all/]],
  ['delete that matches nothing', ({ users }) => users.delete({ name: 'nobody' }), [/matched no record/], 'RecordNotFoundError'],
  // getOrCreate
  ['getOrCreate(null)', ({ users }) => users.getOrCreate(any(null)), [/plain object/, /null/]],
  ['getOrCreate(a predicate)', ({ users }) => users.getOrCreate(any(() => true)), [/plain object/, /function/]],
  ['getOrCreate(a Condition)', ({ users }) => users.getOrCreate(any(users.field('a').eq(1))), [/plain object/]],
  ['getOrCreate with defaults a number', ({ users }) => users.getOrCreate({ name: 'Zed' }, any(5)), [/defaults/, /plain object/, /5/]],
  ['getOrCreate with an unstorable where value', ({ users }) => users.getOrCreate({ name: any(NaN) }), [/finite/, /NaN/]],
  // count
  ['count(7)', ({ users }) => users.count(any(7)), [/Condition/, /7/]],
  // field and conditions
  ['field("")', ({ users }) => users.field(any('')), [/field name/, /non-empty string/]],
  ['field(5)', ({ users }) => users.field(any(5)), [/field name/, /5/]],
  ['isIn of a non-array', ({ users }) => users.field('age').isIn(any(5)), [/isIn\(\)/, /array/, /5/]],
  ['like of a number', ({ users }) => users.field('name').like(any(5)), [/like\(\)/, /string/, /5/]],
  ['startsWith of null', ({ users }) => users.field('name').startsWith(any(null)), [/startsWith\(\)/, /string/, /null/]],
  ['eq(undefined)', ({ users }) => users.field('name').eq(undefined), [/eq\(\)/, /undefined/]],
  ['gt of a function', ({ users }) => users.field('age').gt(() => 1), [/gt\(\)/, /function/]],
  ['between with a missing bound', ({ users }) => users.field('age').between(undefined, 3), [/between\(\)/, /undefined/]],
  ['contains(undefined)', ({ users }) => users.field('tags').contains(undefined), [/contains\(\)/, /undefined/]],
  ['and()', () => and(), [/and\(\)/, /one or more/]],
  ['or()', () => or(), [/or\(\)/, /one or more/]],
  ['and of a plain object', ({ users }) => and(users.field('a').eq(1), any({ a: 1 })), [/argument 2 of and\(\)/, /Condition/]],
  ['not of a string', () => not(any('x')), [/not\(\)/, /Condition/, /x/]],
  // indexes
  ['createIndex with an unknown type', ({ users }) => users.createIndex('name', any({ type: 'btree' })), [/btree/, /'hash' or 'sorted'/]],
  ['createIndex with a misspelled option', ({ users }) => users.createIndex('name', any({ uniq: true })), [/`uniq`/, /`unique`/]],
  ['createIndex with a non-boolean unique', ({ users }) => users.createIndex('name', any({ unique: 'yes' })), [/`unique`/, /boolean/, /yes/]],
  ['createIndex of an empty field', ({ users }) => users.createIndex(any('')), [/`field`/, /non-empty string/]],
  ['createIndex of a number', ({ users }) => users.createIndex(any(5)), [/`field`/, /5/]],
  ['createIndex again with other options', ({ users }) => users.createIndex('age', { type: 'hash' }), [/`users\.age`/, /other options/]],
  ['dropIndex of an unindexed field', ({ users }) => users.dropIndex('name'), [/no index/, /`users\.name`/]],
  ['dropIndex(5)', ({ users }) => users.dropIndex(any(5)), [/`field`/, /5/]],
  // aggregate
  ['aggregate(null)', ({ users }) => users.aggregate(any(null)), [/aggregate\(\)/, /null/]],
  ['aggregate of a number', ({ users }) => users.aggregate({ n: any(5) }), [/`n`/, /count\(\), sum\(\)/, /5/]],
  ['aggregate of a fake aggregation', ({ users }) => users.aggregate({ n: any({ fn: 'median', field: 'age' }) }), [/`n`/, /median/]],
  ['aggregate with groupby', ({ users }) => users.aggregate({ n: count() }, any({ groupby: 'age' })), [/`groupby`/, /`groupBy`/]],
  ['aggregate with an empty groupBy list', ({ users }) => users.aggregate({ n: count() }, { groupBy: [] }), [/`groupBy`/, /\[\]/]],
  ['aggregate with groupBy a number', ({ users }) => users.aggregate({ n: count() }, { groupBy: any(5) }), [/`groupBy`/, /5/]],
  ['aggregate with where a number', ({ users }) => users.aggregate({ n: count() }, { where: any(5) }), [/Condition/, /5/]],
  ['sum("")', () => sum(''), [/sum\(\)/, /field name/]],
  ['avg(5)', () => avg(any(5)), [/avg\(\)/, /5/]],
  ['min(null)', () => min(any(null)), [/min\(\)/, /null/]],
  ['max(undefined)', () => max(any(undefined)), [/max\(\)/, /field name/]],
  ['count(5)', () => count(any(5)), [/count\(\)/, /5/]],
  // database
  ['createTable("")', ({ db }) => db.createTable(''), [/`name`/, /non-empty string/]],
  ['createTable(5)', ({ db }) => db.createTable(any(5)), [/`name`/, /5/]],
  ['createTable("__proto__")', ({ db }) => db.createTable('__proto__'), [/__proto__/, /not allowed/]],
  ['createTable("a/b")', ({ db }) => db.createTable('a/b'), [/a\/b/, /not allowed/]],
  ['createTable of an existing name', ({ db }) => db.createTable('users'), [/`users`/, /already exists/], 'DuplicateTableError'],
  ['createTable with primarykey', ({ db }) => db.createTable('t', any({ primarykey: 'code' })), [/`primarykey`/, /`primaryKey`/]],
  ['createTable with index (singular)', ({ db }) => db.createTable('t', any({ index: [] })), [/`index`/, /`indexes`/]],
  ['createTable with an empty primaryKey', ({ db }) => db.createTable('t', { primaryKey: '' }), [/`primaryKey`/, /non-empty string/]],
  ['createTable with indexes not a list', ({ db }) => db.createTable('t', { indexes: any('email') }), [/`indexes`/, /list/, /email/]],
  ['createTable with an index of unknown type', ({ db }) => db.createTable('t', { indexes: [{ field: 'a', type: any('tree') }] }), [/tree/, /'hash' or 'sorted'/]],
  ['createTable with an index option misspelled', ({ db }) => db.createTable('t', { indexes: [any({ field: 'a', unqiue: true })] }), [/`unqiue`/, /`unique`/]],
  ['createTable with the same index twice', ({ db }) => db.createTable('t', { indexes: [{ field: 'a' }, { field: 'a' }] }), [/same field twice/]],
  ['createTable with an unknown schema type', ({ db }) => db.createTable('t', { schema: { a: any('text') } }), [/`a`/, /string, number/, /text/]],
  ['createTable with a schema that is a string', ({ db }) => db.createTable('t', { schema: any('strict') }), [/`schema`/, /strict/]],
  ['hasTable(5)', ({ db }) => db.hasTable(any(5)), [/`name`/, /non-empty string/, /5/]],
  ['getTable(5)', ({ db }) => db.getTable(any(5)), [/`name`/, /5/]],
  ['getTable of an unknown name', ({ db }) => db.getTable('nope'), [/`nope`/], 'TableNotFoundError'],
  ['dropTable of an unknown name', ({ db }) => db.dropTable('nope'), [/`nope`/], 'TableNotFoundError'],
  ['transaction("x")', ({ db }) => db.transaction(any('x')), [/`fn`/, /function/, /x/]],
  ['transaction with retry', ({ db }) => db.transaction(() => 1, any({ retry: 1 })), [/`retry`/, /retries/]],
  ['transaction with negative retries', ({ db }) => db.transaction(() => 1, { retries: -1 }), [/`retries`/, /non-negative integer/, /-1/]],
  ['transaction with tables a string', ({ db }) => db.transaction(() => 1, { tables: any('users') }), [/`tables`/, /users/]],
  ['transaction with an unknown table', ({ db }) => db.transaction(() => 1, { tables: ['users', 'nope'] }), [/`nope`/], 'TableNotFoundError'],
  ['async transaction body', ({ db, users }) => db.transaction(any(async () => users.insert({}))), [/async/], 'InvalidStateError'],
  ['onCommit(5)', ({ db }) => db.onCommit(any(5)), [/`listener`/, /function/, /5/]],
  // locks
  ['lock.readSync with an unknown option', ({ users }) => users.lock.readSync(() => 1, any({ timeout: 5 })), [/`timeout`/, /timeoutMs/]],
  ['lock.writeSync with a negative timeoutMs', ({ users }) => users.lock.writeSync(() => 1, { timeoutMs: -5 }), [/`timeoutMs`/, /-5/]],
  ['lock.writeSync of a non-function', ({ users }) => users.lock.writeSync(any(5)), [/`fn`/, /function/, /5/]],
]

describe('bad input gets a clear DictDBError and leaves the database exactly as it was', () => {
  const cases = CASES.map(([says, call, patterns, code]) => ({ says, call, patterns, code: code ?? 'InvalidArgumentError' }))
  it.each(cases)('$says', ({ call, patterns, code }) => {
    const w = world()
    const before = snapshot(w.db)
    const error = expectDictDBError(() => call(w), code, ...patterns)
    expect(error).toBeInstanceOf(DictDBError)
    expect(snapshot(w.db)).toEqual(before)
  })
})

describe('bad input inside a transaction', () => {
  it('a bad call caught inside a transaction leaves the rest of the transaction to commit', () => {
    const w = world()
    w.db.transaction(() => {
      w.users.update({ age: 37 }, { id: 1 })
      expect(() => w.users.insert({ id: true })).toThrow(DictDBError)
      expect(() => w.users.select({ limit: -1 })).toThrow(DictDBError)
    })
    expect(w.users.get(1)?.age).toBe(37)
    expect(w.users.count()).toBe(2)
  })

  it('a bad call that escapes a transaction rolls the whole transaction back', () => {
    const w = world()
    const before = snapshot(w.db)
    expect(() =>
      w.db.transaction(() => {
        w.users.update({ age: 37 }, { id: 1 })
        w.typed.insert({ name: 'x' })
        w.users.insert(any(null))
      }),
    ).toThrow(DictDBError)
    expect(snapshot(w.db)).toEqual(before)
  })
})
