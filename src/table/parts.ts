// What every layer of a Table shares: its wiring from the database, the planner of its writes,
// and the checks each public call makes (alive, under its lock, a `where` against the schema).
import { InvalidArgumentError, InvalidStateError, RecordNotFoundError, TableNotFoundError, describe } from '../errors'
import type { IndexSpec } from '../indexes/types'
import type { RWLock } from '../locks/types'
import { checkBoolean, checkName } from '../options'
import type { ConditionNode } from '../query/ast'
import { checkNodeFields, type KnownFields } from '../query/fields'
import { toNode } from '../query/where'
import type { Validator } from '../schema'
import type { TableStore } from '../storage/table-store'
import { ChangePlanner } from '../table-changes'
import type { Transactions } from '../txn/transactions'
import type { Replica } from '../shared/replica'
import { shortName } from '../values/describe'

/** Internal wiring a table gets from its database. */
export interface TableContext {
  readonly name: string
  readonly primaryKey: string
  readonly store: TableStore
  /** The lock's slot in shared memory (shared databases), or -1. */
  readonly lockSlot: number
  readonly lock: RWLock
  readonly tx: Transactions
  readonly validator: Validator | null
  readonly schema: unknown
  /** Why the table cannot be used any more (dropped, database closed), or null while it can. */
  dead: (() => Error) | null
  /**
   * Registers a live query: a shared replica is kept caught up while it waits, and `onClose`
   * runs when the database closes. Returns the stop function.
   */
  readonly follow: (onClose: () => void) => () => void
  /** A shared database's replica of this thread (its lock is then a `SharedRWLock`), or null. */
  readonly replica: Replica | null
}

/** The key of a table's parts (a symbol: no name to collide with a user's). */
export const PARTS: unique symbol = Symbol('dictdb.table')

/** A table's wiring, with what is derived from it once: the write planner and the known fields. */
export interface TableParts {
  readonly ctx: TableContext
  readonly plan: ChangePlanner
  /** The fields a `where` may name (key and schema fields), or null without a type-string schema. */
  readonly known: KnownFields
}

export function tableParts(ctx: TableContext): TableParts {
  const declared = ctx.validator?.fields
  return {
    ctx,
    plan: new ChangePlanner(ctx.name, ctx.primaryKey, ctx.store, ctx.validator),
    known: declared ? new Set([ctx.primaryKey, ...declared]) : null,
  }
}

/** Throws why the table cannot be used (dropped, database closed), if it cannot. */
export function alive(ctx: TableContext): void {
  const dead = ctx.dead
  if (dead !== null) throw dead()
}

// Liveness is checked again under the lock: in a shared database, catching up may just have
// applied another thread's dropTable, and a write to a dropped table must not reach the log.
/** `fn` under the table's lock in `mode`, the table checked alive once the lock is held. */
export function locked<R>(ctx: TableContext, mode: 'read' | 'write', fn: () => R): R {
  return ctx.tx.withLock(ctx.lock, mode, () => (alive(ctx), fn()))
}

/** The condition of a `where` argument, its fields checked against the schema. */
export function whereNode({ ctx, known }: TableParts, where: unknown): ConditionNode {
  const node = toNode(where, 'where', ctx.name)
  checkNodeFields(node, known, ctx.name, '`where`')
  return node
}

/** The error of a write whose `where` matched no record. */
export function noMatch(table: string, what: string): RecordNotFoundError {
  return new RecordNotFoundError(`${what}() matched no record in \`${shortName(table)}\``, { table })
}

/** Checks and completes an index definition. */
export function checkIndexSpec(spec: IndexSpec): Required<IndexSpec> {
  const field = checkName(spec.field, 'field')
  const type = spec.type ?? 'hash'
  if (type !== 'hash' && type !== 'sorted') {
    throw new InvalidArgumentError(`Unknown index type ${describe(type)} for \`${shortName(field)}\`: expected 'hash' or 'sorted'`, { field })
  }
  const unique = checkBoolean(spec.unique, 'unique') ?? false
  return { field, type, unique }
}

/** The error of a table used after it was dropped. */
export function droppedError(name: string): Error {
  return new TableNotFoundError(`Table \`${shortName(name)}\` was dropped`, { table: name })
}

/** The error of a table used after its database was closed. */
export function closedError(): Error {
  return new InvalidStateError('The database is closed')
}
