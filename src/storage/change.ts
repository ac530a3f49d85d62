import type { IndexSpec } from '../indexes/types'
import type { TtlRule } from '../live/ttl'
import { ownsKey } from '../values/own-field'
import type { Key, Rec } from '../values/types'

/**
 * One record change — the unit of the one write path. `before` undefined = insert,
 * `after` undefined = delete.
 */
export interface RecordChange {
  readonly type: 'record'
  readonly table: string
  readonly key: Key
  readonly before: Rec | undefined
  readonly after: Rec | undefined
}

type Writable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Made with `new` and not as a literal, yet a plain object like one (its prototype is
 * `Object.prototype`, its fields the same, in the same order): V8 pretenures a literal's
 * allocation site once most of its objects survive a young collection, as the changes of a
 * large insert all do, and from then on every single write's change, which dies at once, was
 * allocated in the old generation and left there for a full collection. A constructor has no
 * such site.
 */
const Change = function (this: Writable<RecordChange>, table: string, key: Key, before: Rec | undefined, after: Rec | undefined) {
  this.type = 'record'
  this.table = table
  this.key = key
  this.before = before
  this.after = after
} as unknown as new (table: string, key: Key, before: Rec | undefined, after: Rec | undefined) => RecordChange
Change.prototype = Object.prototype

/** A record change (`before` undefined: an insert; `after` undefined: a delete). */
export function recordChange(table: string, key: Key, before: Rec | undefined, after: Rec | undefined): RecordChange {
  return new Change(table, key, before, after)
}

/**
 * The fields a patch from a shared log sets: `names[i]` to `values[i]`, for `i < count` (values
 * deep-frozen, as decoded). Its arrays are the decoder's, reused from patch to patch: valid until
 * the next patch is read.
 */
export interface FieldPatch {
  readonly names: readonly string[]
  readonly values: readonly unknown[]
  readonly count: number
}

/** What a table is made of, as created, saved and replicated. */
export interface TableDefinition {
  readonly name: string
  readonly primaryKey: string
  readonly schema?: unknown
  readonly indexes: readonly Required<IndexSpec>[]
  /** Records expire (a table created with `ttl`). */
  readonly ttl?: TtlRule
}

// A definition's optional parts are read as its own: a `ttl` or `schema` a library of the
// application put on Object.prototype would otherwise give every table one.
/** The expiry rule `def` holds, if any. */
export function ttlOf(def: TableDefinition): TtlRule | undefined {
  return ownsKey(def, 'ttl') ? def.ttl : undefined
}

/** The schema `def` holds, if any. */
export function schemaOf(def: TableDefinition): unknown {
  return ownsKey(def, 'schema') ? def.schema : undefined
}

/** A change to the catalog: tables and indexes. */
export type SchemaChange =
  | { readonly type: 'createTable'; readonly table: string; readonly definition: TableDefinition }
  | { readonly type: 'dropTable'; readonly table: string }
  | { readonly type: 'createIndex'; readonly table: string; readonly index: Required<IndexSpec> }
  | { readonly type: 'dropIndex'; readonly table: string; readonly field: string }

/** Anything a commit carries, in the order it happened. */
export type Op = RecordChange | SchemaChange

/** What change listeners receive: every op of one committed transaction or single call. */
export interface Commit {
  readonly ops: readonly Op[]
  /**
   * Set (with no ops) when a shared database's replica in this thread was rebuilt from a
   * snapshot after falling behind: the changes in between were not delivered one by one, so an
   * observer that keeps deltas (incremental backups) must start over from the full state.
   */
  readonly reset?: true
  /**
   * Where the log stands after this commit (`db.changes({ from })` resumes after it): in a local
   * database, the number of commits since the \`Database\` was made; in a shared one, the shared
   * log's byte offset after the commit, the same in every thread; in a connected one, its
   * PostgreSQL log row's position × 1,024 minus the commits after it in that row (group commit),
   * the same in every process.
   */
  readonly position?: number
}

/** The change that undoes `change`. */
export function inverse(change: RecordChange): RecordChange {
  return recordChange(change.table, change.key, change.after, change.before)
}

/** One table in a {@link DatabaseState}. */
export interface TableState {
  readonly definition: TableDefinition
  readonly nextAutoKey: number
  /** The records in insertion order (frozen, shared with the live table: copy before mutating). */
  readonly records: readonly Rec[]
  /** @internal The table's lock slot in a shared database snapshot. */
  readonly lockSlot?: number
}

/** A consistent snapshot of a whole database: what persistence saves and replicas rebuild from. */
export interface DatabaseState {
  readonly tables: readonly TableState[]
}
