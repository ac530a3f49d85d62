// The types of the Database façade's options and of its internal seams (the remote log of a
// connected database). `src/database.ts` re-exports them: modules import them from there.
import type { Catalog } from '../catalog'
import type { IndexSpec } from '../indexes/types'
import type { TtlOption } from '../live/ttl'
import type { Schema } from '../schema'
import type { SharedSync, Transactions } from '../txn/transactions'

/** Where dictdb reports what it cannot throw (a failing change listener, a backup warning). */
export interface Logger {
  warn(message: string, ...details: unknown[]): void
  error(message: string, ...details: unknown[]): void
}

/** Options of `new Database()`. */
export interface DatabaseOptions {
  /** Share this database with worker_threads (see `db.handle()`). */
  shared?: boolean
  /** Default timeout of every lock acquisition, in milliseconds (default 5000). */
  lockTimeoutMs?: number
  /** Where warnings and listener errors go (default: `console`). */
  logger?: Logger
  /** Shared databases: bytes of the shared change log ring (default 64 MiB; a multiple of 8 from 64 KiB to 4 GiB). */
  logBytes?: number
}

/** Options of `Database.attach()`. */
export interface AttachOptions {
  /** Standard Schema validators of tables created with one (they cannot cross threads). */
  schemas?: Readonly<Record<string, Schema>>
  logger?: Logger
}

/**
 * @internal Where a connected database's ordered log lives (dictdb/postgres): the write
 * authority. A local database has none (it is its own), a shared one uses the shared ring.
 */
export interface RemoteLog {
  /** Runs `run` (one local transaction) under the write authority; resolves once it is durable. */
  transact<R>(run: () => R): Promise<R>
  /** Resolves once the replica has every commit acknowledged anywhere before the call. */
  sync(): Promise<void>
  /** The furthest `Commit.position` this process knows the log has reached (absent: none kept). */
  tail?(): number
  /** Ends the connection (after the commits under way). */
  close(): Promise<void>
  /** The seam the write path calls: appends a commit's ops, or refuses a write outside `transact`. */
  readonly sync_: SharedSync
}

/** @internal What a remote log drives: the catalog and the transaction machinery of its database. */
export interface RemoteParts {
  readonly catalog: Catalog
  readonly tx: Transactions
}

/**
 * Makes an async `fn` a compile error: `R & NotAPromise<R>` is `R` for a synchronous result and
 * an impossible type for a promise. Use it to pass a generic body on to `transaction`.
 *
 * @example
 * ```ts
 * function inTransaction<R>(db: Database, body: () => R & NotAPromise<R>): R {
 *   return db.transaction<R>(body)
 * }
 * ```
 */
export type NotAPromise<R> = R extends PromiseLike<unknown> ? { 'transaction() runs fn synchronously: an async fn is refused': never } : unknown

/** Options of `db.createTable()`. */
export interface CreateTableOptions<K extends string = string> {
  /**
   * The primary key field (default `'id'`). With an explicit record type, name it in the type
   * too, so the key type follows: `db.createTable<Product, 'sku'>('products', { primaryKey: 'sku' })`.
   */
  primaryKey?: K
  /** A type-string schema or a Standard Schema validator (zod, valibot, arktype). */
  schema?: Schema
  /** Secondary indexes to create with the table. */
  indexes?: IndexSpec[]
  /**
   * Records expire: `{ ms }` after insert (the time is kept in the field `expiresAt`, or the
   * `field` named), or at the `Date`/epoch-ms time in `{ field }`. Expired records are invisible
   * to every read at once and deleted by a background sweep.
   */
  ttl?: TtlOption
}

/** Options of `db.transaction()`. */
export interface TransactionOptions {
  /** Tables to lock up front, in a fixed (name) order, so the transaction cannot deadlock. */
  tables?: string[]
  /** How many times a deadlock loser is retried, with exponential backoff (default 3). */
  retries?: number
}

/** How many times a deadlock loser is retried when the caller does not say (the seeds' 3 tries). */
export const DEFAULT_RETRIES = 3
