import { brand, isInstance } from './brand'
import { ownsKey } from './values/own-field'

/**
 * Every error thrown by dictdb extends {@link DictDBError} and carries a stable `code` plus
 * context fields where they apply. The code is the class name of the error, or of the nearest
 * class it extends among SPEC's list of codes: `ChangeFeedOverflowError` is an
 * `InvalidStateError` and carries that code. `FileSystemError` (no listed code fits a refusal
 * of the operating system) carries its own.
 *
 * @example
 * ```ts
 * try { users.insert({ id: 1 }) } catch (e) {
 *   if (e instanceof DictDBError && e.code === 'DuplicateKeyError') console.log(e.key)
 * }
 * ```
 */
export class DictDBError extends Error {
  /** Also true for an error of the other build (ESM or CommonJS) loaded in the same process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses (ours, and those of other modules such as FileSystemError) are matched by class
    // name within a DictDBError of the other build: both builds come from the same sources.
    if (isInstance(this, value)) return true
    return this !== DictDBError && isInstance(DictDBError, value) && hasClassNamed(value, this.name)
  }

  /** Stable machine-readable code: the class name, or that of the listed error class it extends. */
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
    this.code = codeOf(new.target)
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

brand(DictDBError, 'DictDBError')

/** The codes SPEC.md lists ("Errors"). */
const CODES: ReadonlySet<string> = new Set([
  'DuplicateKeyError',
  'DuplicateTableError',
  'RecordNotFoundError',
  'TableNotFoundError',
  'SchemaValidationError',
  'LockTimeoutError',
  'DeadlockError',
  'InsufficientFundsError',
  'CorruptFileError',
  'InvalidArgumentError',
  'InvalidStateError',
  'ConnectionError',
])

/** The name of `cls` or of the nearest class it extends whose name is a listed code; else `cls`'s own name. */
function codeOf(cls: abstract new (...args: never[]) => unknown): string {
  for (let c: unknown = cls; typeof c === 'function' && c !== DictDBError; c = Object.getPrototypeOf(c)) {
    if (CODES.has(c.name)) return c.name
  }
  return cls.name
}

function hasClassNamed(value: unknown, name: string): boolean {
  try {
    for (let p = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
      if (ownsKey(p, 'constructor') && (p.constructor as { name?: unknown }).name === name) return true
    }
  } catch {
    // A proxy: not one of ours.
  }
  return false
}

export { describe } from './values/describe'

/**
 * Runs `fn`, which reads a caller's argument, and turns anything it throws that is not a
 * {@link DictDBError} (a getter or a proxy trap of the caller's that throws) into an
 * {@link InvalidArgumentError} about `what`, keeping the original as its `cause`.
 */
export function readingInput<R>(what: string, fn: () => R): R {
  try {
    return fn()
  } catch (error) {
    throw inputError(what, error)
  }
}

/** {@link readingInput} for a hot path, without a closure: `catch (e) { throw inputError(what, e) }`. */
export function inputError(what: string, error: unknown): DictDBError {
  if (error instanceof DictDBError) return error
  return new InvalidArgumentError(`Could not read ${what}: ${reason(error)}`, { cause: error })
}

function reason(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${String(error.message).slice(0, 200)}` : 'it threw a non-Error value'
  } catch {
    return 'it threw'
  }
}
