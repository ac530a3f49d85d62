import { afterEach, expect } from 'vitest'
import { Database, DictDBError, Field, type Table } from '../../src/index'

/** The index kinds the query suites run over: none, hash, sorted. */
export const INDEX_KINDS = ['none', 'hash', 'sorted'] as const
export type IndexKind = (typeof INDEX_KINDS)[number]

/** The database kinds the query suites run over: one thread, or shared with workers. */
export const DATABASE_KINDS = ['local', 'shared'] as const
export type DatabaseKind = (typeof DATABASE_KINDS)[number]

/** Opens a database of `kind`; close it when done (shared ones hold shared memory). */
export function openDatabase(kind: DatabaseKind): Database {
  return new Database(kind === 'shared' ? { shared: true } : {})
}

/** An `openDatabase` whose databases are closed after each test of the calling file. */
export function databasesClosedAfterEach(): (kind: DatabaseKind) => Database {
  const open: Database[] = []
  afterEach(() => {
    for (const db of open.splice(0)) db.close()
  })
  return (kind) => {
    const db = openDatabase(kind)
    open.push(db)
    return db
  }
}

/** Creates an index of `kind` on each field (nothing for `none`). */
export function indexFields(table: Table<any>, kind: IndexKind, fields: readonly string[]): void {
  if (kind === 'none') return
  for (const field of fields) table.createIndex(field, { type: kind })
}

/** What `fn` threw; fails the test if it did not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw, it returned')
}

/**
 * Expects `fn` to throw a `DictDBError` with this `code` (and class name) whose message
 * matches every pattern; returns the error for further checks.
 */
export function expectDictDBError(fn: () => unknown, code: string, ...patterns: RegExp[]): DictDBError {
  const error = thrown(fn)
  expect(error).toBeInstanceOf(DictDBError)
  const e = error as DictDBError
  expect(e.code).toBe(code)
  expect(e.name).toBe(code)
  for (const pattern of patterns) expect(e.message).toMatch(pattern)
  return e
}

/** Everything observable about a database without changing it. */
export function snapshot(db: Database): unknown {
  return db.listTables().map((name) => {
    const table = db.getTable(name)
    return {
      name,
      primaryKey: table.primaryKey,
      records: table.select(),
      indexes: table.indexedFields().map((field) => {
        const plan = table.explain(new Field(field).eq(null))
        return { field, type: plan.indexType }
      }),
      schemaFields: table.schemaFields().sort(),
      // A set: field order is not state (files write keys in canonical order, so a load sorts them).
      columns: table.columns().sort(),
    }
  })
}

/** A promise with its resolve exposed, for ordering async steps without sleeps. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Lets every queued microtask and immediate run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The values of the primary key `id` of `rows`. */
export function ids(rows: readonly Record<string, unknown>[], key = 'id'): unknown[] {
  return rows.map((r) => r[key])
}
