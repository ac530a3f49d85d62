// How a Database is put together: its options checked, its transaction machinery and catalog
// made, and, for a shared or connected database, the replica wired to the shared ring or the
// remote log. The façade classes (src/database.ts and src/database/*.ts) only drive these parts.
import { Catalog } from '../catalog'
import { InvalidArgumentError, describe } from '../errors'
import type { ChangeFeed } from '../live/changes'
import { Follower } from '../live/follower'
import { Sweeper } from '../live/sweeper'
import type { SharedRWLock } from '../locks/shared-lock'
import { dropTicket, takeTicket } from '../locks/wait-graph'
import { checkLogger, checkOptions } from '../options'
import type { Schema } from '../schema'
import { SharedParts, connectShared, type DatabaseHandle } from '../shared/connect'
import { replicaHost, wireOps } from '../shared/host'
import { Transactions } from '../txn/transactions'
import type { Database } from '../database'
import type { DatabaseOptions, Logger, RemoteLog, RemoteParts } from './types'

/** The key of a Database's parts, for the façade's layers only (a symbol: no name to collide with). */
export const PARTS: unique symbol = Symbol('dictdb.parts')

/** What a Database drives, made by its constructor; `closed` and `remoteClosed` set by `close()`. */
export interface DatabaseParts {
  readonly catalog: Catalog
  readonly tx: Transactions
  readonly lockTimeoutMs: number
  readonly logger: Logger
  readonly shared: SharedParts | null
  readonly remote: RemoteLog | null
  readonly follower: Follower | null
  readonly sweeper: Sweeper
  /** Open change feeds, ended when the database closes. */
  readonly feeds: Set<ChangeFeed>
  closed: boolean
  /** Settles once the remote log's connection is closed (after `close()`). */
  remoteClosed: Promise<void>
}

/** Set by `Database.attach` for the constructor it calls (a private channel). */
let attaching: { handle: DatabaseHandle; schemas: Readonly<Record<string, Schema>> } | null = null

/** Set by `Database.openConnected` for the constructor it calls (a private channel). */
let connecting: { makeLog: (parts: RemoteParts) => RemoteLog; schemas: Readonly<Record<string, Schema>> } | null = null

/** Runs `construct` (a Database constructor call) attaching to the shared database of `handle`. */
export function whileAttaching<D>(handle: DatabaseHandle, schemas: Readonly<Record<string, Schema>>, construct: () => D): D {
  attaching = { handle, schemas }
  try {
    return construct()
  } finally {
    attaching = null
  }
}

/** Runs `construct` (a Database constructor call) with its log made by `makeLog`. */
export function whileConnecting<D>(makeLog: (parts: RemoteParts) => RemoteLog, schemas: Readonly<Record<string, Schema>>, construct: () => D): D {
  connecting = { makeLog, schemas }
  try {
    return construct()
  } finally {
    connecting = null
  }
}

/** Checks the options of `new Database()`, completed with their defaults. */
function checkDatabaseOptions(options: DatabaseOptions | undefined): { opts: DatabaseOptions; timeout: number; logger: Logger } {
  const opts = checkOptions(options, ['shared', 'lockTimeoutMs', 'logger', 'logBytes'], 'new Database()')
  const timeout = opts.lockTimeoutMs ?? 5000
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
    throw new InvalidArgumentError(`Expected \`lockTimeoutMs\` to be a non-negative finite number, got ${describe(timeout)}`)
  }
  if (opts.shared !== undefined && typeof opts.shared !== 'boolean') {
    throw new InvalidArgumentError(`Expected \`shared\` to be a boolean, got ${describe(opts.shared)}`)
  }
  if (opts.logBytes !== undefined && opts.shared !== true) throw new InvalidArgumentError('`logBytes` applies to shared databases only')
  return { opts, timeout, logger: opts.logger === undefined ? console : checkLogger(opts.logger) }
}

/** Checks the options of `new Database()` and makes the parts of `db`. */
export function openParts(db: Database, options: DatabaseOptions | undefined): DatabaseParts {
  const { opts, timeout, logger } = checkDatabaseOptions(options)
  const late: MadeLater = { catalog: null, shared: null }
  const tx = newTransactions(late, logger)
  const catalog = (late.catalog = new Catalog(tx, timeout, attaching?.schemas ?? connecting?.schemas ?? {}))
  const sweeper = new Sweeper(db, opts.shared === true || connecting !== null, (error) => logger.error('dictdb: a TTL sweep failed', error))
  catalog.onExpiringTable = () => sweeper.start()
  let follower: Follower | null = null
  if (opts.shared === true) {
    const host = replicaHost(catalog, tx, (error) => logger.error('dictdb: publishing the shared snapshot failed', error))
    late.shared = connectShared(host, { handle: attaching?.handle, logBytes: opts.logBytes, timeoutMs: timeout })
    follower = shareReplica(catalog, tx, late.shared, logger, timeout)
  }
  const remote = connecting === null ? null : connecting.makeLog({ catalog, tx })
  if (remote !== null) tx.share(remote.sync_)
  return { catalog, tx, lockTimeoutMs: timeout, logger, shared: late.shared, remote, follower, sweeper, feeds: new Set(), closed: false, remoteClosed: Promise.resolve() }
}

/** The parts a database's transactions call back into, made after the transactions. */
interface MadeLater {
  catalog: Catalog | null
  shared: SharedParts | null
}

/** The transaction manager, whose callbacks read the catalog and the shared parts once `late` has them. */
function newTransactions(late: MadeLater, logger: Logger): Transactions {
  const ctx = (name: string) => (late.catalog as Catalog).context(name)
  return new Transactions({
    store: (name) => ctx(name).store,
    lock: (name) => ctx(name).lock,
    reportListenerError: (error) => logger.error('dictdb: a commit listener threw; the commit stands', error),
    deadlockRetried: (table) => {
      if (table !== undefined && (late.catalog as Catalog).has(table)) ctx(table).lock.counters.deadlockRetried()
    },
    names: () => (late.catalog as Catalog).names(),
    has: (name) => (late.catalog as Catalog).has(name),
    retrying: (on) => {
      const shared = late.shared
      if (shared !== null) (on ? takeTicket : dropTicket)(shared.memory, shared.replica.slot)
    },
  })
}

/** Wires the write path of `tx` to the shared ring and starts following other threads' commits. */
function shareReplica(catalog: Catalog, tx: Transactions, shared: SharedParts, logger: Logger, timeoutMs: number): Follower {
  catalog.shared = shared
  // The commit count's word, for the bare-read check of every `get` (SharedRWLock.quiet): a
  // constant of this closure, read with one instruction.
  const commits = shared.memory.commitsWord()
  const stale = shared.replica.staleWord
  tx.share({
    catchUp: (canRebuild) => shared.replica.catchUp(canRebuild),
    refresh: () => shared.replica.refresh(),
    append: (ops) => shared.replica.append(wireOps(catalog, ops)),
    snapshotAtTail: () => shared.replica.snapshotAtTail(),
    readLocal: (lock, fn) => (lock as SharedRWLock).localReadSync(fn),
    quiet: (lock) => (lock as SharedRWLock).quiet(commits, stale) || shared.replica.quietRead(lock as SharedRWLock),
    position: () => shared.replica.position,
    enterChecked: (lock) => (lock as SharedRWLock).enterChecked(),
    heldElsewhere: (lock) => (lock as SharedRWLock).heldElsewhere(),
    appendIf: (write) => shared.replica.appendIf(write),
  })
  shared.start()
  const follower = new Follower(shared.memory, shared.replica.slot, timeoutMs, () => tx.sync(), (error) => logger.error('dictdb: catching up with other threads failed', error))
  catalog.follow = () => follower.follow()
  return follower
}
