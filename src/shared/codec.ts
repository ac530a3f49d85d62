import { deserialize, serialize } from 'node:v8'
import { isStandardSchema } from '../schema'
import type { DatabaseState, Op, TableDefinition } from '../storage/change'
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

/** Encodes a commit's ops (v8 serialization: fast, native `Date` and `bigint`). */
export function encodeOps(ops: readonly WireOp[]): Uint8Array {
  return serialize(ops)
}

/** Decodes ops and deep-freezes their records the way the store keeps them. */
export function decodeOps(bytes: Uint8Array): WireOp[] {
  const ops = deserialize(bytes) as WireOp[]
  for (const op of ops) if (op.type === 'record' && op.after !== undefined) freezeDecoded(op.after)
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
