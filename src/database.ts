import { DuplicateTableError, InvalidArgumentError, InvalidStateError, TableNotFoundError, describe } from './errors'
import type { IndexSpec } from './indexes/types'
import { LocalRWLock } from './locks/local-lock'
import type { RWLock } from './locks/types'
import { checkFunction, checkName, checkOptions } from './options'
import { compileSchema, type Schema } from './schema'
import type { DatabaseState, TableDefinition, TableState } from './storage/change'
import { ChangePlanner } from './table-changes'
import { freezeRecord } from './values/freeze'
import { TableStore } from './storage/table-store'
import { Table, checkIndexSpec, closedError, droppedError, type TableContext } from './table'
import { Transactions, type CommitListener } from './txn/transactions'

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
}

/** Options of `db.createTable()`. */
export interface CreateTableOptions {
  /** The primary key field (default `'id'`). */
  primaryKey?: string
  /** A type-string schema or a Standard Schema validator (zod, valibot, arktype). */
  schema?: Schema
  /** Secondary indexes to create with the table. */
  indexes?: IndexSpec[]
}

/** Options of `db.transaction()`. */
export interface TransactionOptions {
  /** Tables to lock up front, in a fixed (name) order, so the transaction cannot deadlock. */
  tables?: string[]
  /** How many times a deadlock loser is retried, with exponential backoff (default 3). */
  retries?: number
}

const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype', '.', '..'])
// Characters that are unsafe in a file name on some platform, and control characters.
const UNSAFE_NAME = /[/\\:*?"<>|\u0000-\u001f\u007f]/

/**
 * An in-memory database: a catalog of tables, atomic transactions across them, and (later)
 * persistence, workers and helpers.
 *
 * @example
 * ```ts
 * import { Database, increment } from 'dictdb'
 * const db = new Database()
 * const accounts = db.createTable('accounts')
 * accounts.insert({ id: 'alice', balance: 100 })
 * db.transaction(() => {
 *   accounts.update({ balance: increment(-30) }, { id: 'alice' })
 *   accounts.upsert({ id: 'bob', balance: 30 })
 * })
 * ```
 */
export class Database {
  readonly #tables = new Map<string, Table<any>>()
  readonly #contexts = new Map<string, TableContext>()
  readonly #tx: Transactions
  readonly #lockTimeoutMs: number
  readonly #logger: Logger
  #closed = false

  constructor(options?: DatabaseOptions) {
    const opts = checkOptions(options, ['shared', 'lockTimeoutMs', 'logger'], 'new Database()')
    const timeout = opts.lockTimeoutMs ?? 5000
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
      throw new InvalidArgumentError(`Expected \`lockTimeoutMs\` to be a non-negative finite number, got ${describe(timeout)}`)
    }
    if (opts.shared !== undefined && typeof opts.shared !== 'boolean') {
      throw new InvalidArgumentError(`Expected \`shared\` to be a boolean, got ${describe(opts.shared)}`)
    }
    if (opts.shared === true) {
      throw new InvalidStateError('Shared databases (worker_threads) are not available yet in this version of dictdb')
    }
    this.#lockTimeoutMs = timeout
    this.#logger = opts.logger ?? console
    this.#tx = new Transactions({
      store: (name) => this.#context(name).store,
      lock: (name) => this.#context(name).lock,
      reportListenerError: (error) => this.#logger.error('dictdb: a commit listener threw; the commit stands', error),
    })
  }

  /** Creates a table; `DuplicateTableError` if the name is taken. */
  createTable<T extends object = Record<string, unknown>>(name: string, options?: CreateTableOptions): Table<T> {
    this.#open()
    checkTableName(name)
    const opts = checkOptions(options, ['primaryKey', 'schema', 'indexes'], 'createTable()')
    const primaryKey = opts.primaryKey === undefined ? 'id' : checkName(opts.primaryKey, 'primaryKey')
    const indexes = checkIndexList(opts.indexes)
    if (opts.schema !== undefined) compileSchema(opts.schema, name, primaryKey)
    if (this.#tables.has(name)) throw new DuplicateTableError(`Table \`${name}\` already exists`, { table: name })
    const definition: TableDefinition = opts.schema === undefined ? { name, primaryKey, indexes } : { name, primaryKey, schema: opts.schema, indexes }
    this.#tx.schema({ type: 'createTable', table: name, definition }, () => this.#addTable(definition), () => this.#removeTable(name))
    return this.#tables.get(name) as Table<T>
  }

  /** The table with this name; `TableNotFoundError` if there is none. */
  getTable<T extends object = Record<string, unknown>>(name: string): Table<T> {
    this.#open()
    const table = this.#tables.get(checkName(name, 'name'))
    if (table === undefined) throw new TableNotFoundError(`No table named \`${name}\``, { table: name })
    return table as Table<T>
  }

  /** Whether a table has this name. */
  hasTable(name: string): boolean {
    this.#open()
    return this.#tables.has(name)
  }

  /** Drops a table and its records; `TableNotFoundError` if there is none. */
  dropTable(name: string): void {
    this.#open()
    const table = this.getTable(name)
    const ctx = this.#context(name)
    this.#tx.withLock(ctx.lock, 'write', () => {
      this.#tx.schema(
        { type: 'dropTable', table: name },
        () => this.#removeTable(name),
        () => this.#restoreTable(table, ctx),
      )
    })
  }

  /** Table names, in creation order. */
  listTables(): string[] {
    this.#open()
    return [...this.#tables.keys()]
  }

  /**
   * Runs `fn` synchronously as one transaction: every change lands together or, if `fn` throws,
   * none does (the error is rethrown). Nested calls are savepoints. An async `fn` is refused.
   */
  transaction<R>(fn: () => R, options?: TransactionOptions): R {
    this.#open()
    checkFunction(fn, 'fn')
    const opts = checkOptions(options, ['tables', 'retries'], 'transaction()')
    const tables = opts.tables ?? []
    if (!Array.isArray(tables)) throw new InvalidArgumentError(`Expected \`tables\` to be a list of table names, got ${describe(tables)}`)
    for (const name of tables) this.getTable(name)
    const retries = opts.retries ?? 3
    if (!Number.isInteger(retries) || retries < 0) {
      throw new InvalidArgumentError(`Expected \`retries\` to be a non-negative integer, got ${describe(retries)}`)
    }
    return this.#tx.run(fn, tables, retries)
  }

  /**
   * Subscribes to committed changes: every single call and every transaction, once, after it
   * commits (rolled-back work is never seen). Returns the unsubscribe function.
   *
   * @example
   * ```ts
   * const off = db.onCommit(({ ops }) => console.log(ops.length, 'changes'))
   * ```
   */
  onCommit(listener: CommitListener): () => void {
    this.#open()
    checkFunction(listener, 'listener')
    return this.#tx.subscribe(listener)
  }

  /**
   * @internal A consistent snapshot of every table (definitions, key counters, frozen records),
   * taken under the read locks of all tables. Cheap: records are shared, not copied.
   */
  exportState(): DatabaseState {
    this.#open()
    return this.#tx.run(
      () => ({
        tables: [...this.#contexts.values()].map((ctx) =>
          this.#tx.withLock(ctx.lock, 'read', () => ({
            definition: this.#tables.get(ctx.name)!.definition(),
            nextAutoKey: ctx.store.nextAutoKey,
            records: [...ctx.store.rows()].map((row) => row.rec),
          })),
        ),
      }),
      [],
      0,
    )
  }

  /**
   * @internal Builds a database from a snapshot (records are checked and frozen on the way in).
   * `schemas` re-attaches validators that could not be serialized (Standard Schema).
   */
  static fromState(state: DatabaseState, options?: DatabaseOptions, schemas?: Readonly<Record<string, Schema>>): Database {
    const db = new Database(options)
    for (const table of state.tables) db.#loadTable(table, schemas?.[table.definition.name])
    return db
  }

  #loadTable(table: TableState, schema: Schema | undefined): void {
    const def = schema === undefined ? table.definition : { ...table.definition, schema }
    checkTableName(def.name)
    if (this.#tables.has(def.name)) throw new DuplicateTableError(`Table \`${def.name}\` appears twice`, { table: def.name })
    this.#addTable(def)
    const ctx = this.#context(def.name)
    const planner = new ChangePlanner(def.name, def.primaryKey, ctx.store, null)
    for (const rec of table.records) {
      const frozen = freezeRecord(rec)
      const key = planner.checkKey(frozen[def.primaryKey])
      if (ctx.store.row(key) !== undefined) throw planner.duplicate(key)
      ctx.store.apply({ type: 'record', table: def.name, key, before: undefined, after: ctx.validator?.validate(frozen) ?? frozen })
    }
    if (!Number.isSafeInteger(table.nextAutoKey) || table.nextAutoKey < 1) {
      throw new InvalidArgumentError(`Expected the next auto key of \`${def.name}\` to be a positive integer, got ${describe(table.nextAutoKey)}`)
    }
    ctx.store.nextAutoKey = Math.max(ctx.store.nextAutoKey, table.nextAutoKey)
  }

  /** Closes the database: every later call on it or its tables throws. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const ctx of this.#contexts.values()) ctx.dead = closedError
  }

  #addTable(def: TableDefinition): void {
    const store = new TableStore(def.name)
    for (const spec of def.indexes) store.addIndex(spec as Required<IndexSpec>)
    const ctx: TableContext = {
      name: def.name,
      primaryKey: def.primaryKey,
      store,
      lock: this.#makeLock(def.name),
      tx: this.#tx,
      validator: def.schema === undefined ? null : compileSchema(def.schema, def.name, def.primaryKey),
      schema: def.schema,
      dead: null,
    }
    this.#contexts.set(def.name, ctx)
    this.#tables.set(def.name, new Table(ctx))
  }

  #removeTable(name: string): void {
    const ctx = this.#contexts.get(name)
    if (ctx !== undefined) ctx.dead = () => droppedError(name)
    this.#tables.delete(name)
    this.#contexts.delete(name)
  }

  #restoreTable(table: Table<any>, ctx: TableContext): void {
    ctx.dead = null
    this.#tables.set(table.name, table)
    this.#contexts.set(table.name, ctx)
  }

  #makeLock(name: string): RWLock {
    return new LocalRWLock({ name, timeoutMs: this.#lockTimeoutMs })
  }

  #context(name: string): TableContext {
    const ctx = this.#contexts.get(name)
    if (ctx === undefined) throw new TableNotFoundError(`No table named \`${name}\``, { table: name })
    return ctx
  }

  #open(): void {
    if (this.#closed) throw closedError()
  }
}

function checkTableName(name: unknown): asserts name is string {
  checkName(name, 'name')
  if (RESERVED_NAMES.has(name as string) || UNSAFE_NAME.test(name as string) || (name as string).length > 200) {
    throw new InvalidArgumentError(
      `Table name ${describe(name)} is not allowed: it must be usable as a property key and as a file name ` +
        '(no `__proto__`, `constructor`, `prototype`, `.`, `..`, path separators, control characters or `:*?"<>|`, at most 200 characters)',
    )
  }
}

function checkIndexList(indexes: unknown): Required<IndexSpec>[] {
  if (indexes === undefined) return []
  if (!Array.isArray(indexes)) throw new InvalidArgumentError(`Expected \`indexes\` to be a list of { field, type?, unique? }, got ${describe(indexes)}`)
  const specs = indexes.map((spec: unknown) => {
    const opts = checkOptions(spec as IndexSpec, ['field', 'type', 'unique'], 'an index definition')
    return checkIndexSpec(opts as IndexSpec)
  })
  const fields = new Set(specs.map((s) => s.field))
  if (fields.size !== specs.length) throw new InvalidArgumentError('`indexes` lists the same field twice')
  return specs
}
