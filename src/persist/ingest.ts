import { Database, type DatabaseOptions } from '../database'
import { CorruptFileError, DictDBError } from '../errors'
import type { TableDefinition } from '../storage/change'
import { limits } from './document'
import { yieldToLoop } from './read-file'
import { shortName } from '../values/describe'

/*
 * The one way in. Whatever brings data into a database — `load`, `loadAsync`, a backup's full
 * file and its deltas, the CLI — decodes it into change sets and hands them here, where they go
 * through the engine's one write path (plan → validate → TableStore.apply → publish) with the
 * same checks: keys, schema, unique indexes, and the counts a file's header states. So the same
 * file gives the same database, or the same `CorruptFileError`, whichever way it comes in.
 */

/** A table as a file (or a snapshot) brings it in. */
export interface IncomingTable {
  readonly definition: TableDefinition
  readonly nextAutoKey: number
  /** Decoded records, in insertion order; adopted (frozen in place) as they are applied. */
  readonly records: readonly unknown[]
  /** How many records the file's header says the table has, when it says. */
  readonly count?: number | undefined
}

/**
 * Builds a database from tables, a step per yield: every count is checked first, then each
 * table is created, filled a chunk (one commit) at a time, and indexed. Running it to the end
 * gives the database; a throw is a `CorruptFileError` naming `where`, and the half-built
 * database is closed.
 */
export function* fillDatabase(tables: readonly IncomingTable[], options: DatabaseOptions, where: string): Generator<void, Database> {
  for (const t of tables) {
    if (t.count !== undefined && t.count !== t.records.length) {
      throw tableError(where, t.definition.name, `its header counts ${t.count} records of \`${shortName(t.definition.name)}\`, the file holds ${t.records.length}`)
    }
  }
  const db = new Database(options)
  try {
    for (const t of tables) createTable(db, t.definition, where)
    for (const t of tables) {
      const name = t.definition.name
      for (let i = 0; i < t.records.length; i += limits.itemsPerChunk) {
        guard(where, `the records of \`${shortName(name)}\``, () => db.ingest(name, t.records.slice(i, i + limits.itemsPerChunk), false))
        yield
      }
      // Indexes after the records: each is built in one pass, and a unique one checks them all.
      for (const index of t.definition.indexes) {
        guard(where, `the records of \`${shortName(name)}\``, () => db.getTable(name).createIndex(index.field, { type: index.type, unique: index.unique }))
      }
      guard(where, `the key counter of \`${shortName(name)}\``, () => db.raiseNextAutoKey(name, t.nextAutoKey))
    }
    db.publishLoaded()
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** {@link fillDatabase} at once. */
export function buildDatabase(tables: readonly IncomingTable[], options: DatabaseOptions, where: string): Database {
  const steps = fillDatabase(tables, options, where)
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}

/** {@link fillDatabase} with a turn of the event loop between chunks. */
export async function buildDatabaseAsync(tables: readonly IncomingTable[], options: DatabaseOptions, where: string): Promise<Database> {
  const steps = fillDatabase(tables, options, where)
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
    await yieldToLoop()
  }
}

/** Creates a table from its definition (indexes come later, see {@link fillDatabase}). */
export function createTable(db: Database, definition: TableDefinition, where: string): void {
  // Every field of a definition but its name and indexes is a createTable option (primaryKey,
  // schema, and whatever a later version adds): createTable checks them like a user's.
  const { name, indexes: _indexes, ...rest } = definition
  const options = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
  guard(where, `the table \`${shortName(name)}\``, () => db.createTable(name, options))
}

/** Runs `fn`; an error of it is the file's fault: a `CorruptFileError` saying what could not load. */
export function guard<R>(where: string, what: string, fn: () => R): R {
  try {
    return fn()
  } catch (error) {
    throw corrupt(where, what, error)
  }
}

function corrupt(where: string, what: string, error: unknown): Error {
  if (error instanceof CorruptFileError || !(error instanceof DictDBError)) return error as Error
  const wrapped = new CorruptFileError(`${where} is corrupt: ${what} cannot be loaded: ${error.message}`, { cause: error })
  if (error.table !== undefined) wrapped.table = error.table
  if (error.field !== undefined) wrapped.field = error.field
  return wrapped
}

function tableError(where: string, table: string, why: string): CorruptFileError {
  const error = new CorruptFileError(`${where} is corrupt: ${why}`)
  error.table = table
  return error
}
