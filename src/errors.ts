/**
 * Every error thrown by dictdb extends {@link DictDBError} and carries a stable `code`
 * (equal to the class name) plus context fields where they apply.
 *
 * @example
 * ```ts
 * try { users.insert({ id: 1 }) } catch (e) {
 *   if (e instanceof DictDBError && e.code === 'DuplicateKeyError') console.log(e.key)
 * }
 * ```
 */
export class DictDBError extends Error {
  /** Stable machine-readable code, equal to the error class name. */
  readonly code: string
  // `declare`: set only when known, so `'key' in error` and Object.keys() tell the truth.
  /** The table concerned, when there is one. */
  declare table?: string
  /** The primary key concerned, when there is one. */
  declare key?: unknown
  /** The field concerned, when there is one. */
  declare field?: string

  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause })
    this.name = new.target.name
    this.code = new.target.name
    if (context.table !== undefined) this.table = context.table
    if ('key' in context) this.key = context.key
    if (context.field !== undefined) this.field = context.field
  }
}

/** Context attached to a {@link DictDBError}. */
export interface ErrorContext {
  table?: string
  key?: unknown
  field?: string
  cause?: unknown
}

/** A record with this primary key, or this value of a unique index, already exists. */
export class DuplicateKeyError extends DictDBError {}
/** A table with this name already exists. */
export class DuplicateTableError extends DictDBError {}
/** `update`/`delete` matched no record, or a key was not found. */
export class RecordNotFoundError extends DictDBError {}
/** No table has this name. */
export class TableNotFoundError extends DictDBError {}
/** A record does not satisfy the table's schema. */
export class SchemaValidationError extends DictDBError {}
/** A lock could not be acquired within `lockTimeoutMs`, or cannot be waited for here. */
export class LockTimeoutError extends DictDBError {}
/** A transaction kept losing a deadlock after its retries. */
export class DeadlockError extends DictDBError {}
/** A withdrawal, transfer or hold exceeds the available balance. */
export class InsufficientFundsError extends DictDBError {}
/** A file is truncated, corrupt, or not a dictdb file. */
export class CorruptFileError extends DictDBError {}
/** An argument has the wrong type or value, an option is unknown, or a value cannot be stored. */
export class InvalidArgumentError extends DictDBError {}
/** An operation is not allowed in the current state (closed database, async transaction body…). */
export class InvalidStateError extends DictDBError {}
/** A connected database lost its server: a write could not be committed within the lock timeout. */
export class ConnectionError extends DictDBError {}

/** Describes a value for error messages: `` `-1` (number) ``. */
export function describe(value: unknown): string {
  let text: string
  try {
    text =
      typeof value === 'bigint' ? `${value}n` : typeof value === 'number' ? String(value) : typeof value === 'function' ? 'function' : JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : value instanceof Date ? 'Date' : typeof value
  return `\`${text}\` (${kind})`
}
