import { CorruptFileError, describe } from '../../errors'
import type { IndexSpec } from '../../indexes/types'
import type { Op, TableDefinition } from '../../storage/change'
import { checkIndexSpec } from '../../table'
import type { Key } from '../../values/types'
import { loadDefinition, saveDefinition, type SavedDefinition, type SchemaSource } from '../catalog'

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

/** A table being rebuilt by a restore: plain data, checked when the database is built. */
export interface ModelTable {
  definition: TableDefinition
  nextAutoKey: number
  /** Records by key, in insertion order (a replaced record keeps its place, as in a table). */
  readonly records: Map<Key, Readonly<Record<string, unknown>>>
}

/** The database a restore rebuilds: tables in creation order. */
export type Model = Map<string, ModelTable>

/** A journal item checked and ready to apply (definitions and index specs loaded). */
export type CheckedItem = JournalOp<TableDefinition>

/**
 * Checks one stored journal item against the tables that exist at its point of the replay
 * (`tables`, updated for creates and drops). A delta's items are all checked before any is
 * applied, so that a delta is replayed whole or not at all.
 */
export function checkItem(tables: Set<string>, value: unknown, where: string, schemas: SchemaSource): CheckedItem {
  const item = value as Partial<Record<string, unknown>> | null
  const op = item?.op
  const table = item?.table
  if (typeof table !== 'string') throw bad(where, `an op without a table: ${describe(value)}`)
  if (op === 'createTable') {
    if (tables.has(table)) throw bad(where, `it creates the table \`${table}\`, which exists`)
    const definition = loadDefinition(item?.definition, where, schemas)
    if (definition.name !== table) throw bad(where, `a createTable of \`${table}\` with the definition of \`${definition.name}\``)
    tables.add(table)
    return { op, table, definition }
  }
  if (!tables.has(table)) throw bad(where, `an op on the table \`${table}\`, which does not exist at that point`)
  switch (op) {
    case 'put': {
      const record = item?.record
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw bad(where, `a put of ${describe(record)}`)
      return { op, table, key: checkKey(item?.key, where), record: record as Record<string, unknown> }
    }
    case 'delete':
      return { op, table, key: checkKey(item?.key, where) }
    case 'dropTable':
      tables.delete(table)
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

/** Applies a checked item to the model (it cannot fail). */
export function applyItem(model: Model, item: CheckedItem): void {
  if (item.op === 'createTable') {
    model.set(item.table, { definition: item.definition, nextAutoKey: 1, records: new Map() })
    return
  }
  const table = model.get(item.table) as ModelTable
  switch (item.op) {
    case 'put':
      table.records.set(item.key, item.record)
      // The table's rule: an integer key moves the next auto key past it.
      if (typeof item.key === 'number' && Number.isInteger(item.key) && item.key >= table.nextAutoKey) table.nextAutoKey = item.key + 1
      return
    case 'delete':
      table.records.delete(item.key)
      return
    case 'dropTable':
      model.delete(item.table)
      return
    case 'createIndex': {
      const indexes = table.definition.indexes.filter((i) => i.field !== item.index.field)
      table.definition = { ...table.definition, indexes: [...indexes, item.index] }
      return
    }
    case 'dropIndex':
      table.definition = { ...table.definition, indexes: table.definition.indexes.filter((i) => i.field !== item.field) }
      return
  }
}

function checkKey(key: unknown, where: string): Key {
  if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) return key
  throw bad(where, `an op with the key ${describe(key)}`)
}

function bad(where: string, why: string): CorruptFileError {
  return new CorruptFileError(`${where} cannot be replayed: ${why}`)
}
