import type { RemoteLog, RemoteParts } from '../database'
import { InvalidStateError } from '../errors'
import type { SharedSync } from '../txn/transactions'
import { Bodies, type Call } from './calls'
import { Committer } from './commit'
import { Connection } from './connection'
import { Follower } from './follow'
import { COMMITS_PER_ENTRY, ConnectedReplica } from './replica'
import { Statements } from './sql'
import { Syncer } from './syncer'

/** How a connected log is set up (checked by `connect()`). */
export interface PgLogOptions {
  url: string
  name: string
  lockTimeoutMs: number
  groupCommit: boolean
  snapshotEvery: number
  tablePrefix: string
}

/** The most calls one PostgreSQL transaction carries (group commit): fewer than COMMITS_PER_ENTRY. */
const MAX_GROUP = 512
if (MAX_GROUP >= COMMITS_PER_ENTRY) throw new Error('MAX_GROUP must stay under COMMITS_PER_ENTRY (commit positions)')

/**
 * The PostgreSQL log of a connected database, its write authority. Writes are serialized in this
 * process (one chain of tasks) and across processes by the head row's lock, in one of two ways:
 * - validated (one round trip): the bodies run on the replica as it is, and the commit stands
 *   only if no commit made since wrote what they read (Footprint); the head row is locked by the
 *   server's work only, so commits of other processes on other records follow one another at
 *   the server's pace, not at the pace of a round trip to each process;
 * - locked (two round trips), after a conflict: lock the head, catch the replica up, run the
 *   bodies against it, append and commit: it always succeeds.
 * Calls made while one commit is in flight go together in the next one (group commit).
 */
export class PgLog implements RemoteLog {
  readonly #options: PgLogOptions
  readonly #replica: ConnectedReplica
  readonly #sql: Statements
  readonly #conn: Connection
  readonly #syncer: Syncer
  readonly #pending: Call[] = []
  #chain: Promise<void> = Promise.resolve()
  #draining = false
  #closed = false
  readonly #follower: Follower
  readonly #committer: Committer
  readonly #bodies: Bodies

  readonly sync_: SharedSync = {
    catchUp: () => {},
    append: (ops) => this.#bodies.append(ops),
    readLocal: (lock, fn) => lock.readSync(fn),
    quiet: () => false, // every read is tracked (`track`), through the lock
    defersPublish: true,
    position: () => this.#replica.at,
    track: (lock, key) => this.#bodies.track(lock, key),
  }

  constructor(parts: RemoteParts, options: PgLogOptions) {
    this.#options = options
    this.#replica = new ConnectedReplica(parts)
    this.#bodies = new Bodies(parts.catalog)
    this.#sql = new Statements(options.tablePrefix)
    const channel = `${options.tablePrefix}log`
    this.#syncer = new Syncer(this.#replica, this.#sql, options.name)
    this.#conn = this.#connection(options, channel)
    this.#follower = new Follower({
      name: options.name,
      lockTimeoutMs: options.lockTimeoutMs,
      replica: this.#replica,
      syncer: this.#syncer,
      conn: this.#conn,
      enqueue: (task) => this.#enqueue(task),
      draining: () => this.#draining,
      closed: () => this.#closed,
    })
    this.#committer = new Committer({
      options,
      replica: this.#replica,
      sql: this.#sql,
      conn: this.#conn,
      syncer: this.#syncer,
      bodies: this.#bodies,
      channel,
      enqueue: (task) => this.#enqueue(task),
    })
  }

  /** The connection to the server, listening on `channel`: a notification or a loss goes to the follower. */
  #connection(options: PgLogOptions, channel: string): Connection {
    return new Connection({
      url: options.url,
      lockTimeoutMs: options.lockTimeoutMs,
      channel,
      applicationName: `dictdb:${options.name}`,
      onNotify: (payload) => this.#follower.onNotify(payload),
      onConnect: (client) => this.#syncer.onConnect(client),
      onLost: () => this.#follower.reconnectSoon(),
    })
  }

  /** Connects, creates the log's tables if needed, and loads the database (snapshot + log). */
  async open(): Promise<void> {
    await this.#enqueue(async () => {
      await this.#conn.client(Date.now() + this.#options.lockTimeoutMs)
    })
  }

  transact<R>(run: () => R): Promise<R> {
    if (this.#closed) return Promise.reject(new InvalidStateError('This connected database is closed'))
    return new Promise<R>((resolve, reject) => {
      const deadline = Date.now() + this.#options.lockTimeoutMs
      this.#pending.push({ run, resolve: resolve as (value: unknown) => void, reject, deadline, commits: [], result: undefined, error: undefined, failed: false, done: false })
      if (!this.#draining) {
        this.#draining = true
        void this.#enqueue(() => this.#drain())
      }
    })
  }

  sync(): Promise<void> {
    return this.#enqueue(async () => {
      const client = await this.#conn.client(Date.now() + this.#options.lockTimeoutMs)
      await this.#syncer.catchUp(client, await this.#sql.headPosition(client, this.#options.name))
    })
  }

  tail(): number {
    return Math.max(this.#replica.position, this.#follower.notified) * COMMITS_PER_ENTRY
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#chain
    await this.#conn.close()
  }

  /** Runs tasks one at a time: commits and catch-ups never interleave in this process. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task)
    this.#chain = run.catch(() => {})
    return run
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#options.groupCommit ? MAX_GROUP : 1)
      await this.#committer.commit(batch)
    }
    this.#draining = false
    // After the callers' continuations: a call they make at once commits first, and its answer
    // brings the other processes' entries (a catch-up would cost a round trip, and on the early
    // path a flush, before it).
    setImmediate(() => this.#follower.catchUpSoon())
  }
}
