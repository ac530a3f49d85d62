import { DuplicateTableError, InvalidArgumentError, InvalidStateError, TableNotFoundError, describe } from './errors'
import { Counter, openCounter } from './helpers/counter'
import { Ledger, openLedger } from './helpers/ledger'
import type { LedgerOptions } from './helpers/ledger-types'
import { Sequence, openSequence, type SequenceOptions } from './helpers/sequence'
import type { IndexSpec } from './indexes/types'
import { LocalRWLock } from './locks/local-lock'
import { SharedRWLock } from './locks/shared-lock'
import { SharedParts, connectShared, type DatabaseHandle } from './shared/connect'
import type { WireOp } from './shared/codec'
import type { RWLock } from './locks/types'
import { checkFunction, checkName, checkOptions } from './options'
import { compileSchema, type Schema, type Validator } from './schema'
import { isSchemaMark, portableDefinition } from './shared/codec'
import type { Key } from './values/types'
import type { DatabaseState, Op, RecordChange, TableDefinition, TableState } from './storage/change'
import { ChangePlanner } from './table-changes'
import { adoptRecord } from './values/freeze'
import { TableStore } from './storage/table-store'
import { Table, checkIndexSpec, closedError, droppedError, type TableContext } from './table'
import { Transactions, type CommitListener } from './txn/transactions'
import { importCsv, type ImportCsvOptions } from './persist/csv-import'
import { loadDatabase, loadDatabaseAsync, saveDatabase, saveDatabaseAsync, type LoadOptions, type SaveOptions } from './persist/database-file'

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
  /** Shared databases: bytes of the shared change log ring (default 64 MiB). */
  logBytes?: number
}

/** Options of `Database.attach()`. */
export interface AttachOptions {
  /** Standard Schema validators of tables created with one (they cannot cross threads). */
  schemas?: Readonly<Record<string, Schema>>
  logger?: Logger
}

/** Set by `Database.attach` for the constructor it calls (a private channel). */
let attaching: { handle: DatabaseHandle; schemas: Readonly<Record<string, Schema>> } | null = null

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

/** How many times a deadlock loser is retried when the caller does not say (the seeds' 3 tries). */
const DEFAULT_RETRIES = 3

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
  readonly #shared: SharedParts | null = null
  readonly #schemas: Readonly<Record<string, Schema>>
  #closed = false

  constructor(options?: DatabaseOptions) {
    const opts = checkOptions(options, ['shared', 'lockTimeoutMs', 'logger', 'logBytes'], 'new Database()')
    const timeout = opts.lockTimeoutMs ?? 5000
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
      throw new InvalidArgumentError(`Expected \`lockTimeoutMs\` to be a non-negative finite number, got ${describe(timeout)}`)
    }
    if (opts.shared !== undefined && typeof opts.shared !== 'boolean') {
      throw new InvalidArgumentError(`Expected \`shared\` to be a boolean, got ${describe(opts.shared)}`)
    }
    if (opts.logBytes !== undefined && opts.shared !== true) throw new InvalidArgumentError('`logBytes` applies to shared databases only')
    this.#lockTimeoutMs = timeout
    this.#logger = opts.logger ?? console
    this.#tx = new Transactions({
      store: (name) => this.#context(name).store,
      lock: (name) => this.#context(name).lock,
      reportListenerError: (error) => this.#logger.error('dictdb: a commit listener threw; the commit stands', error),
    })
    this.#schemas = attaching?.schemas ?? {}
    if (opts.shared === true) {
      this.#shared = connectShared(
        {
          applyRemote: (ops, publish) => this.#applyRemote(ops, publish),
          rawState: () => this.#rawState(),
          resetFromState: (state) => this.#resetFromState(state),
        },
        { handle: attaching?.handle, logBytes: opts.logBytes, timeoutMs: timeout },
      )
      this.#tx.share({
        catchUp: (canRebuild) => this.#shared?.replica.catchUp(canRebuild),
        append: (ops) => this.#shared?.replica.append(ops.map((op) => this.#toWire(op))),
        readLocal: (lock, fn) => (lock as SharedRWLock).localReadSync(fn),
      })
      this.#shared.start()
    }
  }

  /**
   * A handle to pass to a worker (`workerData`), where `Database.attach(handle)` opens the same
   * database. Shared databases only.
   *
   * @example
   * ```ts
   * const db = new Database({ shared: true })
   * new Worker('./worker.js', { workerData: { db: db.handle() } })
   * ```
   */
  handle(): DatabaseHandle {
    this.#open()
    if (this.#shared === null) {
      throw new InvalidStateError('db.handle() needs a shared database: create it with new Database({ shared: true })')
    }
    return this.#shared.handle(this.#lockTimeoutMs)
  }

  /**
   * Opens, in this thread, the shared database a handle refers to: the same tables, records,
   * indexes, sequences and counters as every other thread.
   *
   * @example
   * ```ts
   * import { workerData } from 'node:worker_threads'
   * const db = Database.attach(workerData.db)
   * ```
   */
  static attach(handle: DatabaseHandle, options?: AttachOptions): Database {
    const opts = checkOptions(options, ['schemas', 'logger'], 'Database.attach()')
    if (typeof handle !== 'object' || handle === null || (handle as { kind?: unknown }).kind !== 'dictdb-shared-database') {
      throw new InvalidArgumentError(`Expected a handle from db.handle(), got ${describe(handle)}`)
    }
    attaching = { handle, schemas: opts.schemas ?? {} }
    try {
      const dbOptions: DatabaseOptions = { shared: true, lockTimeoutMs: handle.lockTimeoutMs }
      if (opts.logger !== undefined) dbOptions.logger = opts.logger
      return new Database(dbOptions)
    } finally {
      attaching = null
    }
  }

  /** Creates a table; `DuplicateTableError` if the name is taken. */
  createTable<T extends object = Record<string, unknown>>(name: string, options?: CreateTableOptions): Table<T> {
    this.#open()
    checkTableName(name)
    const opts = checkOptions(options, ['primaryKey', 'schema', 'indexes'], 'createTable()')
    const primaryKey = opts.primaryKey === undefined ? 'id' : checkName(opts.primaryKey, 'primaryKey')
    const indexes = checkIndexList(opts.indexes)
    if (opts.schema !== undefined) compileSchema(opts.schema, name, primaryKey)
    const definition: TableDefinition = opts.schema === undefined ? { name, primaryKey, indexes } : { name, primaryKey, schema: opts.schema, indexes }
    return this.#catalog(() => {
      if (this.#tables.has(name)) throw new DuplicateTableError(`Table \`${name}\` already exists`, { table: name })
      this.#tx.schema({ type: 'createTable', table: name, definition }, () => this.#addTable(definition), () => this.#removeTable(name))
      return this.#tables.get(name) as Table<T>
    })
  }

  /** The table with this name; `TableNotFoundError` if there is none. */
  getTable<T extends object = Record<string, unknown>>(name: string): Table<T> {
    this.#open()
    this.#tx.sync()
    const table = this.#tables.get(checkName(name, 'name'))
    if (table === undefined) throw new TableNotFoundError(`No table named \`${name}\``, { table: name })
    return table as Table<T>
  }

  /** Whether a table has this name. */
  hasTable(name: string): boolean {
    this.#open()
    checkName(name, 'name')
    this.#tx.sync()
    return this.#tables.has(name)
  }

  /** Drops a table and its records; `TableNotFoundError` if there is none. */
  dropTable(name: string): void {
    this.#open()
    // Two locks (catalog, then the table): a transaction holding the table that creates a table
    // takes them in the other order, so this is retried on deadlock like a transaction.
    this.#tx.run(() => this.#dropTable(name), [], DEFAULT_RETRIES)
  }

  #dropTable(name: string): void {
    this.#catalog(() => {
      const table = this.getTable(name)
      const ctx = this.#context(name)
      // A rollback puts the table back in its place, so listTables() reads as before.
      const position = [...this.#tables.keys()].indexOf(name)
      this.#tx.withLock(ctx.lock, 'write', () => {
        this.#tx.schema(
          { type: 'dropTable', table: name },
          () => this.#removeTable(name),
          () => this.#restoreTable(table, ctx, position),
        )
      })
    })
  }

  /** Table names, in creation order. */
  listTables(): string[] {
    this.#open()
    this.#tx.sync()
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
    const retries = opts.retries ?? DEFAULT_RETRIES
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
    const take = (): DatabaseState => {
      // Every read lock first, in name order (as declared transactions lock), then read.
      const contexts = [...this.#contexts.values()]
      for (const ctx of [...contexts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        this.#tx.withLock(ctx.lock, 'read', () => undefined)
      }
      return {
        tables: contexts.map((ctx) => ({
          definition: this.#tables.get(ctx.name)!.definition(),
          nextAutoKey: ctx.store.nextAutoKey,
          records: [...ctx.store.rows()].map((row) => row.rec),
        })),
      }
    }
    // Shared: the catalog's read lock keeps other threads from creating or dropping tables while
    // the list is taken, and taking it catches this replica up, so the list is the latest one.
    const shared = this.#shared
    return this.#tx.run(() => (shared === null ? take() : this.#tx.withLock(shared.catalogLock, 'read', take)), [], DEFAULT_RETRIES)
  }

  /**
   * @internal Builds a database from a snapshot. Records are checked and deep-frozen *in place*
   * (pass records nothing else uses, e.g. just decoded; frozen ones are copied), unique indexes
   * are checked. `schemas` re-attaches validators that could not be serialized (Standard Schema).
   */
  static fromState(state: DatabaseState, options?: DatabaseOptions, schemas?: Readonly<Record<string, Schema>>): Database {
    const db = new Database(options)
    for (const table of state.tables) db.#loadTable(table, schemas?.[table.definition.name])
    // Loaded state did not come through the shared log: threads that attach start from it.
    db.#shared?.replica.publishSnapshot()
    return db
  }

  #loadTable(table: TableState, schema: Schema | undefined): void {
    const def = schema === undefined ? table.definition : { ...table.definition, schema }
    checkTableName(def.name)
    if (this.#tables.has(def.name)) throw new DuplicateTableError(`Table \`${def.name}\` appears twice`, { table: def.name })
    // Indexes are built after the records: faster in bulk, and a unique one checks the data.
    this.#addTable({ ...def, indexes: [] })
    const ctx = this.#context(def.name)
    const planner = new ChangePlanner(def.name, def.primaryKey, ctx.store, null)
    for (const rec of table.records) {
      const frozen = adoptRecord(rec)
      const key = planner.checkKey(frozen[def.primaryKey])
      if (ctx.store.row(key) !== undefined) throw planner.duplicate(key)
      ctx.store.apply({ type: 'record', table: def.name, key, before: undefined, after: ctx.validator?.validate(frozen) ?? frozen })
    }
    for (const spec of def.indexes) ctx.store.addIndex(checkIndexSpec(spec))
    if (!Number.isSafeInteger(table.nextAutoKey) || table.nextAutoKey < 1) {
      throw new InvalidArgumentError(`Expected the next auto key of \`${def.name}\` to be a positive integer, got ${describe(table.nextAutoKey)}`)
    }
    ctx.store.nextAutoKey = Math.max(ctx.store.nextAutoKey, table.nextAutoKey)
  }

  /**
   * The sequence `name` (created on first use, kept in the system table `_sequences`): gap-free,
   * duplicate-free ids such as `PRO-2026-0001`. Options given again must match the stored ones.
   *
   * @example
   * ```ts
   * const ids = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly' })
   * ids.next() // 'PRO-2026-0001'
   * ```
   */
  sequence(name: string, options?: SequenceOptions): Sequence {
    this.#open()
    return openSequence(this, name, options)
  }

  /**
   * The counter `name` (created at 0 on first use, kept in the system table `_counters`).
   *
   * @example
   * ```ts
   * db.counter('hits').add(1) // 1
   * ```
   */
  counter(name: string): Counter {
    this.#open()
    return openCounter(this, name)
  }

  /**
   * The ledger (wallets with escrow) named `options.name`, default `'main'`: created on first use,
   * kept in system tables `_ledger_<name>_*`. Currency and scale given again must match.
   *
   * @example
   * ```ts
   * const ledger = db.ledger({ currency: 'EUR', scale: 2 })
   * ledger.openAccount('alice')
   * ledger.deposit('alice', '10.50')
   * ledger.balance('alice') // 1050n
   * ```
   */
  ledger(options?: LedgerOptions): Ledger {
    this.#open()
    return openLedger(this, options)
  }

  /**
   * Saves the database to `path` (format `'json'`, the default, or `'binary'`). The file is
   * written aside and renamed over `path`: a crash mid-save leaves the previous file intact.
   *
   * @example
   * ```ts
   * db.save('shop.json')
   * db.save('shop.dictdb', { format: 'binary' })
   * ```
   */
  save(path: string, options?: SaveOptions): void {
    this.#open()
    saveDatabase(this, path, options)
  }

  /**
   * {@link Database.save} without blocking the event loop: the snapshot waits for read locks
   * with `await`, and encoding and writing go a chunk at a time.
   *
   * @example
   * ```ts
   * await db.saveAsync('shop.json')
   * ```
   */
  async saveAsync(path: string, options?: SaveOptions): Promise<void> {
    this.#open()
    await saveDatabaseAsync(this, path, options)
  }

  /**
   * Loads a database saved by {@link Database.save} (format detected from the file). A missing,
   * truncated or corrupt file throws (`FileSystemError`, `CorruptFileError`); nothing is half-loaded.
   * `schemas` re-attaches Standard Schema validators, which a file cannot hold.
   *
   * @example
   * ```ts
   * const db = Database.load('shop.json', { schemas: { users: UserSchema } })
   * ```
   */
  static load(path: string, options?: LoadOptions): Database {
    return loadDatabase(path, options)
  }

  /**
   * {@link Database.load} without blocking the event loop: read, decoded and inserted a chunk at
   * a time.
   *
   * @example
   * ```ts
   * const db = await Database.loadAsync('shop.json')
   * ```
   */
  static loadAsync(path: string, options?: LoadOptions): Promise<Database> {
    return loadDatabaseAsync(path, options)
  }

  /**
   * Creates the table `tableName` from a CSV file (header row, `delimiter`, a schema or type
   * inference) and returns how many rows it imported. All or nothing: a bad row names its line.
   *
   * @example
   * ```ts
   * const n = db.importCsv('users.csv', 'users', { schema: { name: 'string', age: 'integer' } })
   * ```
   */
  importCsv(path: string, tableName: string, options?: ImportCsvOptions): number {
    this.#open()
    return importCsv(this, path, tableName, options)
  }

  /** Closes the database: every later call on it or its tables throws. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#shared?.close()
    for (const ctx of this.#contexts.values()) ctx.dead = closedError
  }

  #addTable(def: TableDefinition, lockSlot = this.#shared?.memory.allocateLock() ?? -1): void {
    const store = new TableStore(def.name)
    for (const spec of def.indexes) store.addIndex(spec as Required<IndexSpec>)
    const ctx: TableContext = {
      name: def.name,
      primaryKey: def.primaryKey,
      store,
      lockSlot,
      lock: this.#makeLock(def.name, lockSlot),
      tx: this.#tx,
      validator: this.#validatorOf(def),
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

  #restoreTable(table: Table<any>, ctx: TableContext, position: number): void {
    ctx.dead = null
    insertAt(this.#tables, position, table.name, table)
    insertAt(this.#contexts, position, table.name, ctx)
  }

  #makeLock(name: string, lockSlot: number): RWLock {
    const shared = this.#shared
    if (shared === null) return new LocalRWLock({ name, timeoutMs: this.#lockTimeoutMs })
    return new SharedRWLock({ name, timeoutMs: this.#lockTimeoutMs, memory: shared.memory, lockSlot, threadSlot: shared.replica.slot })
  }

  #validatorOf(def: TableDefinition) {
    if (def.schema === undefined) return null
    const schema = isSchemaMark(def.schema) ? this.#schemas[def.name] : def.schema
    if (schema === undefined) return missingValidator(def.name)
    return compileSchema(schema, def.name, def.primaryKey)
  }

  /** Runs a catalog change: under the shared catalog lock in a shared database. */
  #catalog<R>(fn: () => R): R {
    const shared = this.#shared
    return shared === null ? fn() : this.#tx.withLock(shared.catalogLock, 'write', fn)
  }

  /** An op as it is appended to the shared log. */
  #toWire(op: Op): WireOp {
    if (op.type === 'record') return { type: 'record', table: op.table, key: op.key, after: op.after }
    if (op.type !== 'createTable') return op
    return { type: 'createTable', table: op.table, definition: portableDefinition(op.definition), lockSlot: this.#context(op.table).lockSlot }
  }

  /** Applies ops another thread committed, and tells this thread's listeners. */
  #applyRemote(ops: readonly WireOp[], publish: boolean): void {
    const applied: Op[] = []
    for (const op of ops) {
      if (op.type === 'record') {
        const store = this.#context(op.table).store
        const change: RecordChange = { type: 'record', table: op.table, key: op.key, before: store.row(op.key)?.rec, after: op.after }
        if (change.before === undefined && change.after === undefined) continue
        store.apply(change)
        applied.push(change)
        continue
      }
      if (op.type === 'createTable') this.#addTable(op.definition, op.lockSlot)
      else if (op.type === 'dropTable') this.#removeTable(op.table)
      else if (op.type === 'createIndex') this.#context(op.table).store.addIndex(op.index)
      else this.#context(op.table).store.removeIndex(op.field)
      applied.push(op.type === 'createTable' ? { type: 'createTable', table: op.table, definition: op.definition } : op)
    }
    if (publish && applied.length > 0) this.#tx.publish({ ops: applied })
  }

  /** The local state, without locks (a shared replica's snapshot, taken under the append mutex). */
  #rawState(): DatabaseState {
    return {
      tables: [...this.#contexts.values()].map((ctx) => ({
        definition: this.#tables.get(ctx.name)!.definition(),
        nextAutoKey: ctx.store.nextAutoKey,
        records: [...ctx.store.rows()].map((row) => row.rec),
        lockSlot: ctx.lockSlot,
      })),
    }
  }

  /** Replaces the local state by a shared snapshot; tables that persist keep their objects. */
  #resetFromState(state: DatabaseState): void {
    const names = new Set<string>()
    for (const table of state.tables) {
      const def = table.definition
      names.add(def.name)
      let ctx = this.#contexts.get(def.name)
      if (ctx === undefined || ctx.lockSlot !== table.lockSlot) {
        if (ctx !== undefined) this.#removeTable(def.name)
        this.#addTable(def, table.lockSlot)
        ctx = this.#context(def.name)
      } else {
        ctx.store.clear()
        for (const spec of def.indexes) ctx.store.addIndex(spec as Required<IndexSpec>)
      }
      for (const rec of table.records) {
        ctx.store.apply({ type: 'record', table: def.name, key: rec[def.primaryKey] as Key, before: undefined, after: rec })
      }
      ctx.store.nextAutoKey = Math.max(ctx.store.nextAutoKey, table.nextAutoKey)
    }
    for (const name of [...this.#contexts.keys()]) if (!names.has(name)) this.#removeTable(name)
    this.#tx.publish({ ops: [], reset: true })
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

/** The validator of a table whose Standard Schema stayed in another thread. */
function missingValidator(table: string): Validator {
  return {
    fields: null,
    validate() {
      throw new InvalidStateError(
        `Table \`${table}\` was created with a Standard Schema validator in another thread; pass it to Database.attach(handle, { schemas: { ${table}: validator } }) to write to it here`,
        { table },
      )
    },
  }
}

/** Sets `key` in `map` at insertion rank `position` (rollbacks undo in reverse, so ranks are exact). */
function insertAt<V>(map: Map<string, V>, position: number, key: string, value: V): void {
  const entries = [...map]
  entries.splice(position, 0, [key, value])
  map.clear()
  for (const [k, v] of entries) map.set(k, v)
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
