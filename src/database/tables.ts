// The Database façade's tables and transactions: creating, finding, listing and dropping
// tables (the catalog's DDL, under the shared catalog lock in a shared database), and running
// transactions.
import { checkIndexList, checkTableName } from '../catalog'
import { DuplicateTableError, InvalidArgumentError, TableNotFoundError, describe } from '../errors'
import { checkTtl } from '../live/ttl'
import { checkFunction, checkName, checkOptions } from '../options'
import { checkKnownField } from '../query/fields'
import { compileSchema } from '../schema'
import type { TableDefinition } from '../storage/change'
import type { Table } from '../table'
import { shortName } from '../values/describe'
import { DatabaseCore, OPEN } from './core'
import { DEFAULT_RETRIES, type CreateTableOptions, type NotAPromise, type TransactionOptions } from './types'
import { PARTS, type DatabaseParts } from './wiring'

/** The tables and transactions of {@link Database} (a layer of it, never made alone). */
export class DatabaseTables extends DatabaseCore {
  /**
   * Creates a table; `DuplicateTableError` if the name is taken. `T` is the record type and `K`
   * the primary key field: the key type of `insert`, `get`, `upsert` comes from `T[K]`.
   *
   * @example
   * ```ts
   * const users = db.createTable<{ id?: number; name: string }>('users')
   * const id: number = users.insert({ name: 'Ada' })
   * const products = db.createTable<{ sku: string; price: number }, 'sku'>('products', { primaryKey: 'sku' })
   * ```
   */
  createTable<T extends object = Record<string, unknown>, K extends string = 'id'>(name: string, options?: CreateTableOptions<K>): Table<T, K> {
    const parts = this[OPEN]()
    checkTableName(name)
    const opts = checkOptions(options, ['primaryKey', 'schema', 'indexes', 'ttl'], 'createTable()')
    const primaryKey = opts.primaryKey === undefined ? 'id' : checkPrimaryKey(opts.primaryKey)
    const indexes = checkIndexList(opts.indexes)
    const validator = opts.schema === undefined ? null : compileSchema(opts.schema, name, primaryKey)
    if (validator?.fields) for (const { field } of indexes) checkKnownField(field, new Set([primaryKey, ...validator.fields]), name, '`indexes`')
    const definition: { -readonly [K in keyof TableDefinition]: TableDefinition[K] } = { name, primaryKey, indexes }
    if (opts.schema !== undefined) definition.schema = opts.schema
    if (opts.ttl !== undefined) definition.ttl = checkTtl(opts.ttl, primaryKey, validator)
    return underCatalogLock(parts, () => {
      if (parts.catalog.has(name)) throw new DuplicateTableError(`Table \`${shortName(name)}\` already exists`, { table: name })
      parts.tx.schema({ type: 'createTable', table: name, definition }, () => parts.catalog.add(definition), () => parts.catalog.remove(name))
      return parts.catalog.table(name) as unknown as Table<T, K>
    })
  }

  /** The table with this name; `TableNotFoundError` if there is none. */
  getTable<T extends object = Record<string, unknown>, K extends string = 'id'>(name: string): Table<T, K> {
    const parts = this[OPEN]()
    parts.tx.sync()
    const table = parts.catalog.table(checkName(name, 'name'))
    if (table === undefined) throw new TableNotFoundError(`No table named \`${shortName(name)}\``, { table: name })
    return table as unknown as Table<T, K>
  }

  /** Whether a table has this name. */
  hasTable(name: string): boolean {
    const parts = this[OPEN]()
    checkName(name, 'name')
    parts.tx.sync()
    return parts.catalog.has(name)
  }

  /** Drops a table and its records; `TableNotFoundError` if there is none. */
  dropTable(name: string): void {
    const parts = this[OPEN]()
    // Two locks (catalog, then the table): a transaction holding the table that creates a table
    // takes them in the other order, so this is retried on deadlock like a transaction.
    parts.tx.run(() => this.#dropTable(parts, name), [], DEFAULT_RETRIES)
  }

  #dropTable(parts: DatabaseParts, name: string): void {
    underCatalogLock(parts, () => {
      const table = this.getTable(name)
      const ctx = parts.catalog.context(name)
      // A rollback puts the table back in its place, so listTables() reads as before.
      const position = parts.catalog.names().indexOf(name)
      parts.tx.withLock(ctx.lock, 'write', () => {
        parts.tx.schema(
          { type: 'dropTable', table: name },
          () => parts.catalog.remove(name),
          () => parts.catalog.restore(table, ctx, position),
        )
      })
    })
  }

  /** Table names, in creation order. */
  listTables(): string[] {
    const parts = this[OPEN]()
    parts.tx.sync()
    return parts.catalog.names()
  }

  /**
   * Runs `fn` synchronously as one transaction: every change lands together or, if `fn` throws,
   * none does (the error is rethrown). Nested calls are savepoints. An async `fn` is refused:
   * at run time with `InvalidStateError`, and at compile time (use `transactionAsync`, whose
   * `fn` is synchronous too, to wait for the commit).
   *
   * @example
   * ```ts
   * db.transaction(() => {
   *   accounts.update({ balance: increment(-100) }, { id: 'alice' })
   *   accounts.update({ balance: increment(100) }, { id: 'bob' })
   * })
   * ```
   */
  transaction<R>(fn: () => R & NotAPromise<R>, options?: TransactionOptions): R {
    const parts = this[OPEN]()
    checkFunction(fn, 'fn')
    const opts = checkOptions(options, ['tables', 'retries'], 'transaction()')
    const tables = opts.tables ?? []
    if (!Array.isArray(tables)) throw new InvalidArgumentError(`Expected \`tables\` to be a list of table names, got ${describe(tables)}`)
    for (const name of tables) this.getTable(name)
    const retries = opts.retries ?? DEFAULT_RETRIES
    if (!Number.isInteger(retries) || retries < 0) {
      throw new InvalidArgumentError(`Expected \`retries\` to be a non-negative integer, got ${describe(retries)}`)
    }
    return parts.tx.run(fn, tables, retries)
  }

  /**
   * Runs `fn` as a transaction under the write authority and resolves with its result once it is
   * committed: at once in a local or worker-shared database (as {@link Database.transaction}),
   * after the change set is durable in the log in a connected one (dictdb/postgres), where it is
   * the only way to write. The same code runs unchanged in every mode. `fn` is synchronous.
   *
   * @example
   * ```ts
   * const db = new Database()
   * const id = await db.transactionAsync(() => db.sequence('property', { format: 'PRO-{0000}' }).next())
   * ```
   */
  transactionAsync<R>(fn: () => R & NotAPromise<R>, options?: TransactionOptions): Promise<R> {
    try {
      const remote = this[PARTS].remote
      if (remote === null) return Promise.resolve(this.transaction<R>(fn, options))
      this[OPEN]()
      checkFunction(fn, 'fn')
      checkOptions(options, ['tables', 'retries'], 'transactionAsync()')
      return remote.transact(() => this.transaction<R>(fn, options))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/** Runs a catalog change: under the shared catalog lock in a shared database. */
function underCatalogLock<R>(parts: DatabaseParts, fn: () => R): R {
  const shared = parts.shared
  return shared === null ? fn() : parts.tx.withLock(shared.catalogLock, 'write', fn)
}

/**
 * A primary key is read from the records given to insert: a name every object has (`constructor`,
 * `toString`, `__proto__`…) would read as a key where none was given.
 */
function checkPrimaryKey(name: unknown): string {
  checkName(name, 'primaryKey')
  if ((name as string) in Object.prototype) {
    throw new InvalidArgumentError(`Expected \`primaryKey\` to be a field name, got ${describe(name)}, a property every object has`)
  }
  return name as string
}

