import { CorruptFileError, describe } from '../../errors'
import type { IndexSpec } from '../../indexes/types'
import type { Database } from '../../database'
import type { Op, TableDefinition } from '../../storage/change'
import { checkIndexSpec } from '../../table'
import type { Key } from '../../values/types'
import { loadDefinition, saveDefinition, type SavedDefinition, type SchemaSource } from '../catalog'
import { createTable } from '../ingest'
import { shortName } from '../../values/describe'

/*
 * A delta file holds the committed ops since the previous backup file, in commit order, each an
 * absolute change (the whole new record, or a delete), so that replay needs nothing but the
 * state the previous file left:
 *   { "op": "put", "table": "users", "key": 1, "record": {...} }     insert or replace
 *   { "op": "delete", "table": "users", "key": 1 }
 *   { "op": "createTable", "table": "t", "definition": {...} }       as in a database header
 *   { "op": "dropTable", "table": "t" }
 *   { "op": "createIndex", "table": "t", "index": { "field", "type", "unique" } }
 *   { "op": "dropIndex", "table": "t", "field": "f" }
 */

/** A journal op, its table definition in form `D` (as saved, or loaded). */
type JournalOp<D> =
  | { readonly op: 'put'; readonly table: string; readonly key: Key; readonly record: Readonly<Record<string, unknown>> }
  | { readonly op: 'delete'; readonly table: string; readonly key: Key }
  | { readonly op: 'createTable'; readonly table: string; readonly definition: D }
  | { readonly op: 'dropTable'; readonly table: string }
  | { readonly op: 'createIndex'; readonly table: string; readonly index: Required<IndexSpec> }
  | { readonly op: 'dropIndex'; readonly table: string; readonly field: string }

/** One op as a delta file stores it. */
export type JournalItem = JournalOp<SavedDefinition>

/** The journal item of a committed op (drops `before`: replay does not need it). */
export function journalItem(op: Op): JournalItem {
  switch (op.type) {
    case 'record':
      return op.after === undefined ? { op: 'delete', table: op.table, key: op.key } : { op: 'put', table: op.table, key: op.key, record: op.after }
    case 'createTable':
      return { op: 'createTable', table: op.table, definition: saveDefinition(op.definition) }
    case 'dropTable':
      return { op: 'dropTable', table: op.table }
    case 'createIndex':
      return { op: 'createIndex', table: op.table, index: { field: op.index.field, type: op.index.type, unique: op.index.unique } }
    case 'dropIndex':
      return { op: 'dropIndex', table: op.table, field: op.field }
  }
}

/** A journal item checked and ready to apply (definitions and index specs loaded). */
export type CheckedItem = JournalOp<TableDefinition>

/** Checks the form of one stored journal item (whether it fits the database is the replay's business). */
export function checkItem(value: unknown, where: string, schemas: SchemaSource): CheckedItem {
  const item = value as Partial<Record<string, unknown>> | null
  const op = item?.op
  const table = item?.table
  if (typeof table !== 'string') throw bad(where, `an op without a table: ${describe(value)}`)
  switch (op) {
    case 'createTable':
      return { op, table, definition: createdTable(item?.definition, table, where, schemas) }
    case 'put': {
      const record = putRecord(item?.record, where)
      return { op, table, key: checkKey(item?.key, where), record }
    }
    case 'delete':
      return { op, table, key: checkKey(item?.key, where) }
    case 'dropTable':
      return { op, table }
    case 'createIndex':
      try {
        return { op, table, index: checkIndexSpec((item?.index ?? {}) as IndexSpec) }
      } catch (error) {
        throw bad(where, (error as Error).message)
      }
    case 'dropIndex':
      if (typeof item?.field !== 'string') throw bad(where, `a dropIndex without a field`)
      return { op, table, field: item.field }
    default:
      throw bad(where, `an unknown op ${describe(op)}`)
  }
}

/** The definition of a createTable of `table`: a table's, and that table's. */
function createdTable(value: unknown, table: string, where: string, schemas: SchemaSource): TableDefinition {
  const definition = loadDefinition(value, where, schemas)
  if (definition.name !== table) throw bad(where, `a createTable of \`${shortName(table)}\` with the definition of \`${shortName(definition.name)}\``)
  return definition
}

/** The record of a put: an object. */
function putRecord(record: unknown, where: string): Record<string, unknown> {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw bad(where, `a put of ${describe(record)}`)
  return record as Record<string, unknown>
}

/**
 * Applies a checked item to the database being restored, through the one way in: a put is a
 * change set of one record (replacing the stored one), a table or index change goes through the
 * public catalog methods — so a replay checks keys, schemas and unique indexes as a load does.
 * Run inside the delta's transaction: an item that does not fit throws, and the delta rolls back.
 */
export function applyItem(db: Database, item: CheckedItem, where: string): void {
  switch (item.op) {
    case 'createTable':
      createTable(db, { ...item.definition, indexes: [] }, where)
      for (const { field, type, unique } of item.definition.indexes) db.getTable(item.table).createIndex(field, { type, unique })
      return
    case 'put':
      if (item.record[db.getTable(item.table).primaryKey] !== item.key) throw bad(where, `a put of the key ${describe(item.key)} holds a record with another key`)
      return db.ingest(item.table, [item.record], true)
    case 'delete': {
      const table = db.getTable(item.table)
      if (table.get(item.key) !== undefined) return void table.delete({ [table.primaryKey]: item.key })
      // The TTL sweep's delete: the record is still held, expired (invisible to get and delete).
      if (table.deleteExpired((store) => [store.get(item.key)].filter((rec) => rec !== undefined), () => true) === 1) return
      throw bad(where, `a delete of the key ${describe(item.key)}, which \`${shortName(item.table)}\` does not hold`)
    }
    case 'dropTable':
      return db.dropTable(item.table)
    case 'createIndex': {
      const { field, type, unique } = item.index
      const table = db.getTable(item.table)
      if (table.hasIndex(field)) table.dropIndex(field)
      return table.createIndex(field, { type, unique })
    }
    case 'dropIndex':
      return db.getTable(item.table).dropIndex(item.field)
  }
}

function checkKey(key: unknown, where: string): Key {
  if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) return key
  throw bad(where, `an op with the key ${describe(key)}`)
}

function bad(where: string, why: string): CorruptFileError {
  return new CorruptFileError(`${where} cannot be replayed: ${why}`)
}
