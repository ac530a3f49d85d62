import { deserialize, serialize } from 'node:v8'
import { isStandardSchema } from '../schema'
import type { DatabaseState, Op, TableDefinition } from '../storage/change'
import type { IndexSpec } from '../indexes/types'
import { BinaryReader, BinaryWriter } from '../values/binary'
import { FrozenDate } from '../values/freeze'
import type { Key, Rec } from '../values/types'

/**
 * An op as it crosses threads: records travel without `before` (a replica reads it from its own
 * state), a created table carries its lock slot.
 */
export type WireOp =
  | { readonly type: 'record'; readonly table: string; readonly key: Key; readonly after: Rec | undefined }
  | { readonly type: 'createTable'; readonly table: string; readonly definition: TableDefinition; readonly lockSlot: number }
  | Exclude<Op, { type: 'record' } | { type: 'createTable' }>

/** Marks a Standard Schema validator, which cannot cross threads: each thread re-attaches its own. */
export const STANDARD_SCHEMA_MARK = Object.freeze({ $standardSchema: true })

/** A definition that can be serialized: a Standard Schema validator becomes a mark. */
export function portableDefinition(def: TableDefinition): TableDefinition {
  return isStandardSchema(def.schema) ? { ...def, schema: STANDARD_SCHEMA_MARK } : def
}

const OP_KINDS = ['record', 'createTable', 'dropTable', 'createIndex', 'dropIndex'] as const
const writer = new BinaryWriter()

/** Encodes a commit's ops compactly (the bytes are a copy, safe to keep). */
export function encodeOps(ops: readonly WireOp[]): Uint8Array {
  writer.uint(ops.length)
  for (const op of ops) {
    writer.value(OP_KINDS.indexOf(op.type))
    writer.string(op.table, -1)
    switch (op.type) {
      case 'record':
        writer.value(op.key)
        writer.value(op.after)
        break
      case 'createTable':
        writer.value(op.definition)
        writer.uint(op.lockSlot)
        break
      case 'createIndex':
        writer.value(op.index)
        break
      case 'dropIndex':
        writer.string(op.field, -1)
        break
    }
  }
  // A Buffer's slice() is a view, not a copy: copy into a new Uint8Array.
  return new Uint8Array(writer.finish())
}

/** Decodes ops; their records come out deep-frozen, the way the store keeps them. */
export function decodeOps(bytes: Uint8Array): WireOp[] {
  const reader = new BinaryReader(bytes)
  const ops: WireOp[] = new Array(reader.uint())
  for (let i = 0; i < ops.length; i++) {
    const type = OP_KINDS[reader.value() as number]
    const table = reader.string()
    switch (type) {
      case 'record':
        ops[i] = { type, table, key: reader.value() as Key, after: reader.value() as Rec | undefined }
        break
      case 'createTable':
        ops[i] = { type, table, definition: reader.value() as TableDefinition, lockSlot: reader.uint() }
        break
      case 'dropTable':
        ops[i] = { type, table }
        break
      case 'createIndex':
        ops[i] = { type, table, index: reader.value() as Required<IndexSpec> }
        break
      default:
        ops[i] = { type: 'dropIndex', table, field: reader.string() }
    }
  }
  return ops
}

export function encodeState(state: DatabaseState): Uint8Array {
  return serialize({ tables: state.tables.map((t) => ({ ...t, definition: portableDefinition(t.definition) })) })
}

export function decodeState(bytes: Uint8Array): DatabaseState {
  const state = deserialize(bytes) as DatabaseState
  for (const table of state.tables) for (const rec of table.records) freezeDecoded(rec)
  return state
}

/** Whether a definition's schema is the mark of a Standard Schema left in another thread. */
export function isSchemaMark(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as { $standardSchema?: unknown }).$standardSchema === true
}

/** Freezes a freshly decoded value in place; Dates become {@link FrozenDate}s. */
function freezeDecoded(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return Object.freeze(new FrozenDate(value.getTime()))
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = freezeDecoded(value[i])
  } else {
    const obj = value as Record<string, unknown>
    for (const k in obj) obj[k] = freezeDecoded(obj[k])
  }
  return Object.freeze(value)
}
