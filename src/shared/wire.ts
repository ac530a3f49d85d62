// An op as it crosses threads (the shared log, the PostgreSQL log), and the kind byte of each; encoded in ./codec.ts, decoded in ./ops-decode.ts.
import type { Op, TableDefinition } from '../storage/change'
import type { Key, Rec } from '../values/types'

/**
 * An op as it crosses threads: records travel without `before` (a replica reads it from its own
 * state), a created table carries its lock slot. An update whose record keeps its fields may
 * travel as a `patch`: only the fields that changed, as `[name, value, name, value, …]`, which
 * each replica lays over its own copy of the record (by name: replicas may hold a record's
 * fields in different orders).
 */
export type WireOp =
  | WireRecord
  | { readonly type: 'patch'; readonly table: string; readonly key: Key; readonly fields: readonly unknown[] }
  | { readonly type: 'createTable'; readonly table: string; readonly definition: TableDefinition; readonly lockSlot: number }
  | Exclude<Op, { type: 'record' } | { type: 'createTable' }>

/**
 * A record op. `before`, when given, is the record every replica holds at this op's place in the
 * log (a shared database's own commits): an update of it may then be encoded as a patch.
 */
export interface WireRecord {
  readonly type: 'record'
  readonly table: string
  readonly key: Key
  readonly after: Rec | undefined
  readonly before?: Rec | undefined
}

export const OP_KINDS = ['record', 'createTable', 'dropTable', 'createIndex', 'dropIndex', 'patch'] as const
export const PATCH_KIND = OP_KINDS.indexOf('patch')
/**
 * An op's kind is one byte, `KIND_BASE + index`. The first layout wrote it as a tagged int (tag
 * byte 4, then 4 bytes): entries written that way (a PostgreSQL log) are still read.
 */
export const KIND_BASE = 16
export const KIND_AS_INT = 4
