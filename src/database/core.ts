// The Database façade's base: what a database is made of, and its life (open, shared with
// workers, synced, observed, closed). The layers above add tables and transactions
// (tables.ts), persistence (files.ts) and the helpers (src/database.ts).
import type { Database } from '../database'
import { InvalidStateError } from '../errors'
import { ChangeFeed, type ChangesOptions, type FeedLog } from '../live/changes'
import { checkFunction } from '../options'
import type { DatabaseHandle } from '../shared/connect'
import { closedError } from '../table'
import { databaseStats, type DatabaseStats } from '../txn/stats'
import type { CommitListener } from '../txn/transactions'
import type { DatabaseOptions } from './types'
import { PARTS, openParts, type DatabaseParts } from './wiring'

/** The key of the method every public call starts with (a symbol: no name to collide with). */
export const OPEN: unique symbol = Symbol('dictdb.open')

/** This façade as the Database it always is: its layers are never made alone. */
export function asDatabase(layer: DatabaseCore): Database {
  return layer as unknown as Database
}

/** The base of {@link Database}: its parts, life, handle, sync, stats and feeds. */
export class DatabaseCore {
  /** @internal */
  protected readonly [PARTS]: DatabaseParts

  constructor(options?: DatabaseOptions) {
    this[PARTS] = openParts(asDatabase(this), options)
  }

  /** @internal The parts, once the database is known to be open: every public call starts here. */
  protected [OPEN](): DatabaseParts {
    const parts = this[PARTS]
    if (parts.closed) throw closedError()
    return parts
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
    const parts = this[OPEN]()
    if (parts.shared === null) {
      throw new InvalidStateError('db.handle() needs a shared database: create it with new Database({ shared: true })')
    }
    return parts.shared.handle(parts.lockTimeoutMs)
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
      const parts = this[OPEN]()
      if (parts.remote !== null) return parts.remote.sync()
      parts.tx.sync()
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
    const parts = this[OPEN]()
    parts.tx.sync()
    const locks = new Map(parts.catalog.contexts().map((ctx) => [ctx.name, ctx.lock]))
    return databaseStats(locks, parts.shared?.memory ?? null)
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
    const parts = this[OPEN]()
    checkFunction(listener, 'listener')
    return parts.tx.subscribe(listener)
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
    const parts = this[OPEN]()
    const { tx, shared, remote, feeds } = parts
    let self: ChangeFeed | undefined
    const log: FeedLog = {
      subscribe: (listener) => {
        const off = tx.subscribe(listener)
        const unfollow = parts.follower?.follow()
        return () => (off(), unfollow?.(), self !== undefined && feeds.delete(self))
      },
      position: () => tx.position,
      tail: () => (shared !== null ? shared.memory.tail : remote !== null ? remote.tail?.() : tx.position),
      sync: () => tx.sync(),
      // Another process's commit may be announced here later than its position reached the caller.
      refreshTail: remote === null ? undefined : () => remote.sync(),
    }
    const feed = new ChangeFeed(log, options)
    self = feed
    feeds.add(feed)
    return feed
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
    const parts = this[PARTS]
    if (parts.closed) return
    parts.closed = true
    parts.shared?.close()
    parts.catalog.close(closedError)
    parts.follower?.stop()
    parts.sweeper.stop()
    for (const feed of [...parts.feeds]) void feed.return()
    if (parts.remote !== null) parts.remoteClosed = parts.remote.close()
  }

  /** @internal Resolves once the remote log's connection is closed (after `close()`). */
  remoteClosed(): Promise<void> {
    return this[PARTS].remoteClosed
  }
}
