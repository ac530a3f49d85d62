import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BackupManager, Condition, Database, DictDBError, count, increment, sum, type Ledger, type Sequence, type Table } from '../src/index'
import { connect } from '../src/postgres/index'
import type { StandardSchemaV1 } from '../src/index'
import { snapshot } from './support/helpers'

// A caller's name or value can be any length: an error message shows the start of it, and the
// error's context property (`field`, `key`, `table`, `path`) keeps the whole of it.

const LONG = 'n'.repeat(5_000)
// A message may name the caller's text two or three times (each cut to 60 characters).
const MAX_MESSAGE = 400
const any = (v: unknown) => v as never
const quiet = { warn() {}, error() {} }

const dir = mkdtempSync(join(tmpdir(), 'dictdb-long-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface World {
  db: Database
  users: Table
  keyed: Table
  typed: Table
  wide: Table
  checked: Table
  twins: Table
  ledger: Ledger
  numbering: Sequence
}

function world(): World {
  const db = new Database()
  const users = db.createTable('users', { indexes: [{ field: 'email', unique: true }, { field: LONG }] })
  users.insert([
    { id: 1, name: 'Ada', email: LONG, [LONG]: 'text' },
    { id: LONG, name: 'Bob', [LONG]: 5 },
  ])
  const keyed = db.createTable('keyed', { primaryKey: LONG })
  const typed = db.createTable('typed', { schema: { name: 'string' } })
  const wide = db.createTable('wide', { schema: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`${LONG}${i}`, 'string' as const])) })
  const checked = db.createTable('checked', { schema: refusing })
  const twins = db.createTable('twins')
  twins.insert([{ id: LONG, v: LONG }, { id: `${LONG}2`, v: LONG }])
  const ledger = db.ledger()
  ledger.openAccount(LONG)
  ledger.deposit(LONG, 100, { idempotencyKey: LONG })
  db.counter(LONG).add(Number.MAX_SAFE_INTEGER)
  db.sequence(LONG, { format: 'A{0000}' })
  const numbering = db.sequence('numbering', { format: () => '' })
  return { db, users, keyed, typed, wide, checked, twins, ledger, numbering }
}

/** A Standard Schema validator that refuses every record, quoting a long field and a long value. */
const refusing: StandardSchemaV1 = {
  '~standard': { version: 1, vendor: 'test', validate: () => ({ issues: [{ message: `Expected one of: ${LONG}`, path: [LONG] }] }) },
}

/** What the call gets: the error code, and the context property that keeps the whole name. */
type Case = readonly [says: string, call: (w: World) => unknown, code: string, keeps?: Record<string, unknown>]

const CASES: Case[] = [
  // records
  ['insert of a taken unique value', ({ users }) => users.insert({ email: LONG }), 'DuplicateKeyError', { field: 'email' }],
  ['insert of a taken primary key', ({ users }) => users.insert({ id: LONG }), 'DuplicateKeyError', { key: LONG }],
  ['insert of an unstorable value under a long field', ({ users }) => users.insert({ [LONG]: () => 1 }), 'InvalidArgumentError', { field: `record.${LONG}` }],
  ['insert of a bad key into a table whose primary key has a long name', ({ keyed }) => keyed.insert({ [LONG]: true }), 'InvalidArgumentError'],
  ['insert missing a long required field', ({ wide }) => wide.insert({}), 'SchemaValidationError', { field: `${LONG}0` }],
  ['insert refused by a Standard Schema quoting a long field and value', ({ checked }) => checked.insert({ a: 1 }), 'SchemaValidationError', { field: LONG }],
  ['insert of a long unknown field under a schema', ({ typed }) => typed.insert({ name: 'x', [LONG]: 1 }), 'SchemaValidationError', { field: LONG }],
  ['update of a long field to undefined', ({ users }) => users.update({ [LONG]: undefined }), 'InvalidArgumentError', { field: LONG }],
  ['update with an increment of a long field holding text', ({ users }) => users.update({ [LONG]: increment(1) }, { id: 1 }), 'InvalidArgumentError', { field: LONG }],
  ['update of a primary key with a long name', ({ keyed }) => keyed.update({ [LONG]: 1 }), 'InvalidArgumentError', { field: LONG }],
  // queries
  ['a where object with a long field set to undefined', ({ users }) => users.select({ where: { [LONG]: undefined } }), 'InvalidArgumentError', { field: LONG }],
  ['a where object with a long field holding an operator object', ({ users }) => users.select({ where: { [LONG]: { $gt: 1 } } }), 'InvalidArgumentError', { field: LONG }],
  ['field() of a long name a schema does not have', ({ typed }) => typed.field(LONG), 'InvalidArgumentError', { field: LONG }],
  ['field() of a misspelled name on a table of long field names', ({ wide }) => wide.field('zzz'), 'InvalidArgumentError', { field: 'zzz' }],
  ['orderBy of a long name a schema does not have', ({ typed }) => typed.select({ orderBy: LONG }), 'InvalidArgumentError', { field: LONG }],
  ['orderBy of a long name with a direction word', ({ users }) => users.select({ orderBy: `${LONG} desc` }), 'InvalidArgumentError'],
  ['columns naming a long field a schema does not have', ({ typed }) => typed.select({ columns: [LONG] }), 'InvalidArgumentError', { field: LONG }],
  ['a long unknown option', ({ users }) => users.select(any({ [LONG]: 1 })), 'InvalidArgumentError'],
  ['Condition.from() of text that is not JSON', () => Condition.from(`{"${LONG}`), 'InvalidArgumentError'],
  ['Condition.from() of a node with a long unexpected key', () => Condition.from({ op: 'eq', field: 'a', value: 1, [LONG]: 1 }), 'InvalidArgumentError'],
  // indexes
  ['a unique createIndex over records sharing a long value', ({ twins }) => twins.createIndex('v', { unique: true }), 'DuplicateKeyError', { field: 'v', key: `${LONG}2` }],
  ['createIndex again on a long field with other options', ({ users }) => users.createIndex(LONG, { type: 'sorted' }), 'InvalidArgumentError', { field: LONG }],
  ['createIndex of a long field with an unknown type', ({ users }) => users.createIndex(`${LONG}2`, any({ type: 'btree' })), 'InvalidArgumentError', { field: `${LONG}2` }],
  ['dropIndex of a long field with no index', ({ users }) => users.dropIndex(`${LONG}2`), 'InvalidArgumentError', { field: `${LONG}2` }],
  // aggregations
  ['an aggregation with a long name made by no aggregate function', ({ users }) => users.aggregate({ [LONG]: any({ fn: 'median' }) }), 'InvalidArgumentError'],
  ['an aggregation with a long name and an empty field', ({ users }) => users.aggregate({ [LONG]: any({ fn: 'sum', field: '' }) }), 'InvalidArgumentError'],
  ['an aggregation named as a long groupBy field', ({ users }) => users.aggregate({ [LONG]: count() }, { groupBy: LONG }), 'InvalidArgumentError'],
  ['a sum of a long field mixing numbers and text', ({ users }) => users.aggregate({ s: sum(LONG) }), 'InvalidArgumentError', { field: LONG }],
  // tables
  ['createTable with a long schema field of an unknown type', ({ db }) => db.createTable('t', { schema: { [LONG]: any('text') } }), 'InvalidArgumentError', { field: LONG }],
  ['createTable with a ttl field that is its long primary key', ({ db }) => db.createTable('t', { primaryKey: LONG, ttl: { field: LONG } }), 'InvalidArgumentError', { field: LONG }],
  ['createTable with a long ttl field its schema does not declare', ({ db }) => db.createTable('t', { schema: { a: 'string' }, ttl: { field: LONG } }), 'InvalidArgumentError', { field: LONG }],
  ['getTable of a long name', ({ db }) => db.getTable(LONG), 'TableNotFoundError', { table: LONG }],
  ['dropTable of a long name', ({ db }) => db.dropTable(LONG), 'TableNotFoundError', { table: LONG }],
  ['a transaction declaring a long table name', ({ db }) => db.transaction(() => 1, { tables: [LONG] }), 'TableNotFoundError', { table: LONG }],
  // sequences and counters
  ['a counter with a long name leaving the safe integers', ({ db }) => db.counter(LONG).add(1), 'InvalidArgumentError', { key: LONG }],
  ['a sequence with a long name and a reset its format cannot show', ({ db }) => db.sequence(`${LONG}2`, { format: 'A{0000}', reset: 'yearly' }), 'InvalidArgumentError'],
  ['a sequence format with a long unknown placeholder', ({ db }) => db.sequence('s', { format: `{${LONG}}` }), 'InvalidArgumentError'],
  ['a long sequence format with an unbalanced brace', ({ db }) => db.sequence('s', { format: `${LONG}{` }), 'InvalidArgumentError'],
  ['a long sequence format without the number', ({ db }) => db.sequence('s', { format: LONG }), 'InvalidArgumentError'],
  ['a sequence with a long name opened again with other options', ({ db }) => db.sequence(LONG, { format: `B${LONG}{0000}` }), 'InvalidArgumentError', { key: LONG }],
  ['a sequence whose format function returns an empty string', ({ numbering }) => numbering.next(), 'InvalidArgumentError'],
  // the ledger
  ['openAccount of a long id that exists', ({ ledger }) => ledger.openAccount(LONG), 'DuplicateKeyError', { key: LONG }],
  ['a transfer from a long account to itself', ({ ledger }) => ledger.transfer(LONG, LONG, 1), 'InvalidArgumentError'],
  ['a withdrawal past the balance of a long account', ({ ledger }) => ledger.withdraw(LONG, 1_000), 'InsufficientFundsError', { key: LONG }],
  ['a long idempotency key used again for another operation', ({ ledger }) => ledger.withdraw(LONG, 1, { idempotencyKey: LONG }), 'InvalidArgumentError', { key: LONG }],
  ['the balance of a long account that does not exist', ({ ledger }) => ledger.balance(`${LONG}2`), 'RecordNotFoundError', { key: `${LONG}2` }],
  ['a release of a long ref that holds nothing', ({ ledger }) => ledger.release(`${LONG}2`, { to: LONG }), 'RecordNotFoundError'],
  ['a ledger opened again with a long other currency', ({ db }) => db.ledger({ currency: LONG }), 'InvalidArgumentError'],
  // files
  ['save to a long path', ({ db }) => db.save(join(dir, LONG)), 'FileSystemError', { path: join(dir, LONG) }],
  ['load of a long path', () => Database.load(join(dir, LONG)), 'FileSystemError', { path: join(dir, LONG) }],
  ['importCsv of a long path', ({ db }) => db.importCsv(join(dir, LONG), 'imported'), 'FileSystemError', { path: join(dir, LONG) }],
  ['exportCsv to a long path', ({ users }) => users.exportCsv(join(dir, LONG)), 'FileSystemError', { path: join(dir, LONG) }],
  ['a backup into a long folder', ({ db }) => new BackupManager(db, join(dir, LONG), { logger: quiet }).backupNow(), 'FileSystemError', { path: join(dir, LONG) }],
  ['a restore from a long folder', () => BackupManager.restore(join(dir, LONG)), 'FileSystemError'],
  ['connect() with a validator for a long table name that is not one', () => connect({ url: 'postgres://localhost:1/none', schemas: { [LONG]: any(5) } }), 'InvalidArgumentError', { table: LONG }],
  ['connect() to a long host name', () => connect({ url: `postgres://${LONG}/none`, lockTimeoutMs: 200 }), 'ConnectionError'],
  ['load with a schema for a long table name the file does not have', () => Database.load(saved(), { schemas: { [LONG]: any({}) } }), 'InvalidArgumentError', { table: LONG }],
]

/** What `fn` threw, or what the promise it returned rejected with; fails the test if neither. */
async function rejection(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw or reject, it did neither')
}

/** A small saved database. */
function saved(): string {
  const path = join(dir, 'small.json')
  const db = new Database()
  db.createTable('t').insert({ a: 1 })
  db.save(path)
  return path
}

describe('an error about a long name or value shows the start of it and leaves the database as it was', () => {
  const cases = CASES.map(([says, call, code, keeps]) => ({ says, call, code, keeps }))
  it.each(cases)('$says', async ({ call, code, keeps }) => {
    const w = world()
    const before = snapshot(w.db)
    const error = await rejection(() => call(w))
    expect(error).toBeInstanceOf(DictDBError)
    const e = error as DictDBError
    expect(e.code).toBe(code)
    expect(e.message.length).toBeLessThan(MAX_MESSAGE)
    if (keeps !== undefined) expect(e).toMatchObject(keeps)
    expect(snapshot(w.db)).toEqual(before)
  })
})


// A file is the caller's text too: the names in it can be any length.
const FILES: Array<readonly [says: string, text: string]> = [
  ['a header listing a long table name twice', header([table(LONG), table(LONG)], [])],
  ['records of a long table the header does not list', header([table('t')], [section('t', []), section(LONG, [])])],
  ['a value with a long unknown tag', header([table('t')], [section('t', [{ id: 1, a: { [`$${LONG}`]: 1 } }])])],
  ['a long table name with no primary key', header([{ ...table(LONG), primaryKey: 5 }], [])],
  ['a long table name with an unknown index type', header([{ ...table(LONG), indexes: [{ field: 'a', type: 'btree' }] }], [])],
  ['a long table name whose records are fewer than its header counts', header([{ ...table(LONG), count: 3 }], [section(LONG, [])])],
  ['a long format version', JSON.stringify({ format: 'dictdb', version: LONG, kind: 'database', tables: [], sections: [] })],
  ['a long kind', JSON.stringify({ format: 'dictdb', version: 1, kind: LONG, tables: [], sections: [] })],
]

function table(name: string): object {
  return { count: 0, indexes: [], name, nextAutoKey: 1, primaryKey: 'id' }
}

function section(name: string, items: object[]): object {
  return { section: name, items }
}

/** A whole-JSON dictdb file without a checksum (one a person may have edited). */
function header(tables: object[], sections: object[]): string {
  return JSON.stringify({ format: 'dictdb', version: 1, kind: 'database', tables, sections })
}

describe('a corrupt file holding long names gets a CorruptFileError that shows the start of them', () => {
  it.each(FILES)('%s', (says, text) => {
    const path = join(dir, `${says.replace(/\W+/g, '-')}.json`)
    writeFileSync(path, text)
    const error = rejectionSync(() => Database.load(path))
    expect(error).toBeInstanceOf(DictDBError)
    expect((error as DictDBError).code).toBe('CorruptFileError')
    expect((error as DictDBError).message.length).toBeLessThan(MAX_MESSAGE)
  })
})

function rejectionSync(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw, it returned')
}

describe('a backup delta holding long names', () => {
  it('a createTable of a long table with the definition of another is left out with a warning that shows the start of the name', async () => {
    const op = { definition: { indexes: [], name: 'u', primaryKey: 'id' }, op: 'createTable', table: LONG }
    const folder = mkdtempSync(join(dir, 'backups-'))
    const db = new Database()
    const backups = new BackupManager(db, folder, { incremental: true, logger: quiet })
    await backups.backupNow()
    db.createTable('u')
    await backups.backupNow()
    await backups.stop()
    const delta = join(folder, readdirSync(folder).find((f) => f.startsWith('delta')) as string)
    writeFileSync(delta, JSON.stringify({ format: 'dictdb', version: 1, base: 1, count: 1, kind: 'delta', previous: 1, sequence: 2, sections: [{ section: 'ops', items: [op] }] }))
    const warnings: string[] = []
    BackupManager.restore(folder, { logger: { warn: (m: string) => warnings.push(m), error() {} } })
    expect(warnings).toHaveLength(1)
    // The warning names the folder and the file besides the reason.
    expect(warnings[0]?.length).toBeLessThan(MAX_MESSAGE + 200)
  })
})
