import { named } from './brand'
import { Catalog, checkIndexList, checkTableName } from './catalog'
import { DuplicateTableError, InvalidArgumentError, InvalidStateError, TableNotFoundError, describe } from './errors'
import { clip } from './values/describe'
import { Counter, openCounter } from './helpers/counter'
import { Ledger, openLedger } from './helpers/ledger'
import type { LedgerOptions } from './helpers/ledger-types'
import { Sequence, openSequence, type SequenceOptions } from './helpers/sequence'
import type { IndexSpec } from './indexes/types'
import type { SharedRWLock } from './locks/shared-lock'
import { dropTicket, takeTicket } from './locks/wait-graph'
import { checkFunction, checkLogger, checkName, checkOptions } from './options'
import { importCsv, type ImportCsvOptions } from './persist/csv-import'
import { buildDatabase } from './persist/ingest'
import { loadDatabase, loadDatabaseAsync, saveDatabase, saveDatabaseAsync, type LoadOptions, type SaveOptions } from './persist/database-file'
import { compileSchema, type Schema } from './schema'
import { checkKnownField } from './query/fields'
import { SharedParts, connectShared, type DatabaseHandle } from './shared/connect'
import { replicaHost, wireOps } from './shared/host'
import type { DatabaseState, TableDefinition } from './storage/change'
import { ChangeFeed, type ChangesOptions, type FeedLog } from './live/changes'
import { Follower } from './live/follower'
import { Sweeper } from './live/sweeper'
import { checkTtl, type TtlOption } from './live/ttl'
import { Table, closedError } from './table'
import { databaseStats, type DatabaseStats } from './txn/stats'
import { Transactions, type CommitListener, type SharedSync } from './txn/transactions'

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

/** Set by {@link openConnected} for the constructor it calls (a private channel). */
let connecting: { makeLog: (parts: RemoteParts) => RemoteLog; schemas: Readonly<Record<string, Schema>> } | null = null

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
const DEFAULT_RETRIES = 3


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
  readonly #catalog: Catalog
  readonly #tx: Transactions
  readonly #lockTimeoutMs: number
  readonly #logger: Logger
  readonly #shared: SharedParts | null = null
  readonly #remote: RemoteLog | null = null
  readonly #follower: Follower | null = null
  readonly #sweeper: Sweeper
  /** Open change feeds, ended when the database closes. */
  readonly #feeds = new Set<ChangeFeed>()
  #closed = false
  #remoteClosed: Promise<void> = Promise.resolve()

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
    this.#logger = opts.logger === undefined ? console : checkLogger(opts.logger)
    this.#tx = new Transactions({
      store: (name) => this.#catalog.context(name).store,
      lock: (name) => this.#catalog.context(name).lock,
      reportListenerError: (error) => this.#logger.error('dictdb: a commit listener threw; the commit stands', error),
      deadlockRetried: (table) => {
        if (table !== undefined && this.#catalog.has(table)) this.#catalog.context(table).lock.counters.deadlockRetried()
      },
      names: () => this.#catalog.names(),
      has: (name) => this.#catalog.has(name),
      retrying: (on) => {
        const shared = this.#shared
        if (shared !== null) (on ? takeTicket : dropTicket)(shared.memory, shared.replica.slot)
      },
    })
    const catalog = new Catalog(this.#tx, timeout, attaching?.schemas ?? connecting?.schemas ?? {})
    this.#catalog = catalog
    const sweeper = new Sweeper(this, opts.shared === true || connecting !== null, (error) => this.#logger.error('dictdb: a TTL sweep failed', error))
    this.#sweeper = sweeper
    catalog.onExpiringTable = () => sweeper.start()
    if (opts.shared === true) {
      const reportError = (error: unknown): void => this.#logger.error('dictdb: publishing the shared snapshot failed', error)
      const host = replicaHost(catalog, this.#tx, reportError)
      const shared = connectShared(host, { handle: attaching?.handle, logBytes: opts.logBytes, timeoutMs: timeout })
      this.#shared = shared
      catalog.shared = shared
      // The commit count's word, for the bare-read check of every `get` (SharedRWLock.quiet): a
      // constant of this closure, read with one instruction.
      const commits = shared.memory.commitsWord()
      this.#tx.share({
        catchUp: (canRebuild) => shared.replica.catchUp(canRebuild),
        refresh: () => {
          if (!shared.replica.current()) shared.replica.catchUp(true)
        },
        append: (ops) => shared.replica.append(wireOps(catalog, ops)),
        readLocal: (lock, fn) => (lock as SharedRWLock).localReadSync(fn),
        quiet: (lock) => (lock as SharedRWLock).quiet(commits) || shared.replica.quietRead(lock as SharedRWLock),
        position: () => shared.replica.position,
        enterChecked: (lock) => (lock as SharedRWLock).enterChecked(),
        heldElsewhere: (lock) => (lock as SharedRWLock).heldElsewhere(),
        appendIf: (ops, write) => shared.replica.appendIf(wireOps(catalog, ops), write),
      })
      shared.start()
      const follower = new Follower(shared.memory, () => this.#tx.sync(), (error) => this.#logger.error('dictdb: catching up with other threads failed', error))
      this.#follower = follower
      catalog.follow = () => follower.follow()
    }
    if (connecting !== null) {
      const remote = connecting.makeLog({ catalog, tx: this.#tx })
      this.#remote = remote
      this.#tx.share(remote.sync_)
    }
  }

  /**
   * @internal Opens a database whose log is remote (dictdb/postgres builds its subclass this
   * way); `schemas` re-attaches Standard Schema validators, which cannot cross processes.
   */
  static openConnected<D extends Database>(
    this: new (options: DatabaseOptions) => D,
    options: DatabaseOptions,
    makeLog: (parts: RemoteParts) => RemoteLog,
    schemas: Readonly<Record<string, Schema>> = {},
  ): D {
    connecting = { makeLog, schemas }
    try {
      return new this(options)
    } finally {
      connecting = null
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
    this.#open()
    checkTableName(name)
    const opts = checkOptions(options, ['primaryKey', 'schema', 'indexes', 'ttl'], 'createTable()')
    const primaryKey = opts.primaryKey === undefined ? 'id' : checkPrimaryKey(opts.primaryKey)
    const indexes = checkIndexList(opts.indexes)
    const validator = opts.schema === undefined ? null : compileSchema(opts.schema, name, primaryKey)
    if (validator?.fields) for (const { field } of indexes) checkKnownField(field, new Set([primaryKey, ...validator.fields]), name, '`indexes`')
    const definition: { -readonly [K in keyof TableDefinition]: TableDefinition[K] } = { name, primaryKey, indexes }
    if (opts.schema !== undefined) definition.schema = opts.schema
    if (opts.ttl !== undefined) definition.ttl = checkTtl(opts.ttl, primaryKey, validator)
    return this.#underCatalogLock(() => {
      if (this.#catalog.has(name)) throw new DuplicateTableError(`Table \`${name}\` already exists`, { table: name })
      this.#tx.schema({ type: 'createTable', table: name, definition }, () => this.#catalog.add(definition), () => this.#catalog.remove(name))
      return this.#catalog.table(name) as unknown as Table<T, K>
    })
  }

  /** The table with this name; `TableNotFoundError` if there is none. */
  getTable<T extends object = Record<string, unknown>, K extends string = 'id'>(name: string): Table<T, K> {
    this.#open()
    this.#tx.sync()
    const table = this.#catalog.table(checkName(name, 'name'))
    if (table === undefined) throw new TableNotFoundError(`No table named \`${clip(name)}\``, { table: name })
    return table as unknown as Table<T, K>
  }

  /** Whether a table has this name. */
  hasTable(name: string): boolean {
    this.#open()
    checkName(name, 'name')
    this.#tx.sync()
    return this.#catalog.has(name)
  }

  /** Drops a table and its records; `TableNotFoundError` if there is none. */
  dropTable(name: string): void {
    this.#open()
    // Two locks (catalog, then the table): a transaction holding the table that creates a table
    // takes them in the other order, so this is retried on deadlock like a transaction.
    this.#tx.run(() => this.#dropTable(name), [], DEFAULT_RETRIES)
  }

  #dropTable(name: string): void {
    this.#underCatalogLock(() => {
      const table = this.getTable(name)
      const ctx = this.#catalog.context(name)
      // A rollback puts the table back in its place, so listTables() reads as before.
      const position = this.#catalog.names().indexOf(name)
      this.#tx.withLock(ctx.lock, 'write', () => {
        this.#tx.schema(
          { type: 'dropTable', table: name },
          () => this.#catalog.remove(name),
          () => this.#catalog.restore(table, ctx, position),
        )
      })
    })
  }

  /** Table names, in creation order. */
  listTables(): string[] {
    this.#open()
    this.#tx.sync()
    return this.#catalog.names()
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
      const remote = this.#remote
      if (remote === null) return Promise.resolve(this.transaction<R>(fn, options))
      this.#open()
      checkFunction(fn, 'fn')
      checkOptions(options, ['tables', 'retries'], 'transactionAsync()')
      return remote.transact(() => this.transaction<R>(fn, options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Resolves once this database's reads see every write acknowledged anywhere before the call:
   * at once for a local database, after catching the replica up for a shared or connected one.
   *
   * @example
   * ```ts
   * await db.sync()
   * db.getTable('users').count()
   * ```
   */
  sync(): Promise<void> {
    try {
      this.#open()
      if (this.#remote !== null) return this.#remote.sync()
      this.#tx.sync()
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * What someone debugging contention needs: per table, how many lock acquisitions waited, for
   * how long in total, how many timed out and how many transactions were re-run after losing a
   * deadlock (summed over every thread for a shared database); for a shared database, the change
   * log's bytes used and free, how far the slowest replica trails, and snapshots taken.
   *
   * @example
   * ```ts
   * const db = new Database()
   * db.createTable('orders').insert({ total: 5 })
   * const { tables } = db.stats()
   * tables.orders // { waits: 0, waitedMs: 0, timeouts: 0, deadlockRetries: 0 }
   * ```
   */
  stats(): DatabaseStats {
    this.#open()
    this.#tx.sync()
    const locks = new Map(this.#catalog.contexts().map((ctx) => [ctx.name, ctx.lock]))
    return databaseStats(locks, this.#shared?.memory ?? null)
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
   * The committed change sets, from now on, as an async iterator: every commit in order (only
   * the ops of `tables` when given). A consumer that falls `maxBuffered` commits behind gets a
   * `ChangeFeedOverflowError` (or, with `onOverflow: 'reset'`, a reset commit carrying the
   * position its state is at): memory stays bounded. `break` ends the feed and frees it. Each
   * commit carries its `position`; `{ from: position }` resumes after it where this thread has
   * not applied the commits after it yet (docs/live.md says when that is).
   *
   * @example
   * ```ts
   * for await (const commit of db.changes({ tables: ['orders'] })) {
   *   for (const op of commit.ops) if (op.type === 'record') console.log(op.key, op.after)
   * }
   * ```
   */
  changes(options?: ChangesOptions): ChangeFeed {
    this.#open()
    let self: ChangeFeed | undefined
    const tx = this.#tx
    const shared = this.#shared
    const remote = this.#remote
    const log: FeedLog = {
      subscribe: (listener) => {
        const off = tx.subscribe(listener)
        const unfollow = this.#follower?.follow()
        return () => (off(), unfollow?.(), self !== undefined && this.#feeds.delete(self))
      },
      position: () => tx.position,
      tail: () => (shared !== null ? shared.memory.tail : remote !== null ? remote.tail?.() : tx.position),
      sync: () => tx.sync(),
      // Another process's commit may be announced here later than its position reached the caller.
      refreshTail: remote === null ? undefined : () => remote.sync(),
    }
    const feed = new ChangeFeed(log, options)
    self = feed
    this.#feeds.add(feed)
    return feed
  }


  /**
   * @internal A consistent snapshot of every table (definitions, key counters, frozen records),
   * taken under the read locks of all tables. Cheap: records are shared, not copied.
   * `atSnapshot` runs right after it is taken, before any listener hears a later commit (the
   * backup journal drops exactly what the snapshot holds).
   */
  exportState(atSnapshot?: () => void): DatabaseState {
    this.#open()
    const take = (): DatabaseState => {
      // Every read lock first, in name order (as declared transactions lock), then read.
      const contexts = this.#catalog.contexts()
      for (const ctx of [...contexts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        this.#tx.withLock(ctx.lock, 'read', () => undefined)
      }
      return this.#catalog.state(contexts)
    }
    // Shared: the catalog's read lock keeps other threads from creating or dropping tables while
    // the list is taken, and taking it catches this replica up, so the list is the latest one.
    const shared = this.#shared
    this.#tx.sync() // listeners hear what came before the snapshot, before it is taken
    return this.#tx.run(() => {
      const state = shared === null ? take() : this.#tx.withLock(shared.catalogLock, 'read', take)
      atSnapshot?.()
      return state
    }, [], DEFAULT_RETRIES)
  }

  /**
   * @internal Builds a database from a snapshot, through the same way in as a loaded file
   * (`persist/ingest.ts`). `schemas` re-attaches validators that could not be serialized.
   */
  static fromState(state: DatabaseState, options?: DatabaseOptions, schemas?: Readonly<Record<string, Schema>>): Database {
    const tables = state.tables.map((t) => {
      const schema = schemas?.[t.definition.name]
      return schema === undefined ? t : { ...t, definition: { ...t.definition, schema } }
    })
    return buildDatabase(tables, options ?? {}, 'the snapshot')
  }

  /**
   * @internal The way in of persisted records (load, restore): one change set through the write
   * path, see `Catalog.ingest`.
   */
  ingest(table: string, records: readonly unknown[], replace: boolean): void {
    this.#open()
    this.#catalog.ingest(table, records, replace)
  }

  /** @internal A loaded table's auto-key counter, as its file kept it. */
  raiseNextAutoKey(table: string, next: number): void {
    this.#open()
    this.#catalog.raiseNextAutoKey(table, next)
  }

  /**
   * @internal After a load: the key counters were set outside the change log, so threads that
   * attach to a shared database start from a snapshot of the loaded state.
   */
  publishLoaded(): void {
    this.#shared?.replica.publishSnapshot()
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

  /**
   * Closes the database: every later call on it or its tables throws. (A connected database,
   * from `dictdb/postgres`, is a `ConnectedDatabase`, whose `close()` returns a promise.)
   *
   * @example
   * ```ts
   * const db = new Database()
   * db.close()
   * ```
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#shared?.close()
    this.#catalog.close(closedError)
    this.#follower?.stop()
    this.#sweeper.stop()
    for (const feed of [...this.#feeds]) void feed.return()
    if (this.#remote !== null) this.#remoteClosed = this.#remote.close()
  }

  /** @internal Resolves once the remote log's connection is closed (after `close()`). */
  remoteClosed(): Promise<void> {
    return this.#remoteClosed
  }

  /** Runs a catalog change: under the shared catalog lock in a shared database. */
  #underCatalogLock<R>(fn: () => R): R {
    const shared = this.#shared
    return shared === null ? fn() : this.#tx.withLock(shared.catalogLock, 'write', fn)
  }

  #open(): void {
    if (this.#closed) throw closedError()
  }
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

named(Database, 'Database')
