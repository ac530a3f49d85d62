import { named } from './brand'
import { Counter, openCounter } from './helpers/counter'
import { Ledger, openLedger } from './helpers/ledger'
import type { LedgerOptions } from './helpers/ledger-types'
import { Sequence, openSequence, type SequenceOptions } from './helpers/sequence'
import { InvalidArgumentError, describe } from './errors'
import { checkOptions } from './options'
import type { Schema } from './schema'
import type { DatabaseHandle } from './shared/connect'
import { OPEN } from './database/core'
import { DatabaseFiles } from './database/files'
import type { AttachOptions, DatabaseOptions, RemoteLog, RemoteParts } from './database/types'
import { whileAttaching, whileConnecting } from './database/wiring'

export type {
  AttachOptions,
  CreateTableOptions,
  DatabaseOptions,
  Logger,
  NotAPromise,
  TransactionOptions,
} from './database/types'
/** @internal The seams of a connected database's log (dictdb/postgres). */
export type { RemoteLog, RemoteParts } from './database/types'

// Its methods come in layers, one concern each (src/database/): its parts and life (core.ts),
// tables and transactions (tables.ts), persistence (files.ts); here, attaching and the helpers.
/**
 * An in-memory database: a catalog of tables, atomic transactions across them, persistence,
 * workers and helpers.
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
export class Database extends DatabaseFiles {
  constructor(options?: DatabaseOptions) {
    super(options)
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
    return whileConnecting(makeLog, schemas, () => new this(options))
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
    const dbOptions: DatabaseOptions = { shared: true, lockTimeoutMs: handle.lockTimeoutMs }
    if (opts.logger !== undefined) dbOptions.logger = opts.logger
    return whileAttaching(handle, opts.schemas ?? {}, () => new Database(dbOptions))
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
    this[OPEN]()
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
    this[OPEN]()
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
    this[OPEN]()
    return openLedger(this, options)
  }
}

named(Database, 'Database')
