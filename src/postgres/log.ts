import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type { RemoteLog, RemoteParts } from '../database'
import { ConnectionError, DictDBError, InvalidStateError } from '../errors'
import type { Op } from '../storage/change'
import type { SharedSync } from '../txn/transactions'
import { Connection, asLockTimeout, isConnectionLoss } from './connection'
import { COMMITS_PER_ENTRY, ConnectedReplica, frame } from './replica'
import { type Entry, Statements } from './sql'
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

/** One `transactionAsync` call waiting for, or in, a commit of the head. */
interface Call {
  readonly run: () => unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  readonly deadline: number
  /** Change sets its local transaction committed (one, or none for a read-only body). */
  commits: Op[][]
  result: unknown
  /** What its body threw on the last run (settled only once that run's state is known current). */
  error: unknown
  failed: boolean
  /** Settled already. */
  done: boolean
}

/** The most calls one PostgreSQL transaction carries (group commit): fewer than COMMITS_PER_ENTRY. */
const MAX_GROUP = 512
if (MAX_GROUP >= COMMITS_PER_ENTRY) throw new Error('MAX_GROUP must stay under COMMITS_PER_ENTRY (commit positions)')
/** Snapshots kept in PostgreSQL; the log before the oldest is pruned. */
const KEEP_SNAPSHOTS = 2

/**
 * The PostgreSQL log of a connected database, its write authority. Writes are serialized in this
 * process (one chain of tasks) and across processes by the head row's lock: a commit locks the
 * head, catches the replica up, runs the bodies against it, appends their change sets with a
 * commit id, moves the head and commits. Calls made while one commit is in flight go together
 * in the next one (group commit).
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
  /** The call whose body is running: the only place a write may happen. */
  #current: Call | null = null
  #closed = false
  #reconnecting = false
  /** The highest position other processes announced, and whether a catch-up to it is queued. */
  #notified = 0
  #catchingUp = false
  /** Other processes committed between this one's last two commits: take the locked path. */
  #contended = false
  /** The log position of this process's latest commit. */
  #lastOwn = 0
  readonly #channel: string

  readonly sync_: SharedSync = {
    catchUp: () => {},
    append: (ops) => this.#append(ops),
    readLocal: (lock, fn) => lock.readSync(fn),
    defersPublish: true,
    position: () => this.#replica.at,
  }

  constructor(parts: RemoteParts, options: PgLogOptions) {
    this.#options = options
    this.#replica = new ConnectedReplica(parts)
    this.#sql = new Statements(options.tablePrefix)
    const channel = `${options.tablePrefix}log`
    this.#channel = channel
    this.#syncer = new Syncer(this.#replica, this.#sql, options.name)
    this.#conn = new Connection({
      url: options.url,
      lockTimeoutMs: options.lockTimeoutMs,
      channel,
      applicationName: `dictdb:${options.name}`,
      onNotify: (payload) => this.#onNotify(payload),
      onConnect: (client) => this.#syncer.onConnect(client),
      onLost: () => this.#reconnectSoon(),
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
    return Math.max(this.#replica.position, this.#notified) * COMMITS_PER_ENTRY
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
      await this.#commitBatch(batch)
    }
    this.#draining = false
    this.#catchUpSoon()
  }

  #append(ops: readonly Op[]): void {
    const call = this.#current
    if (call === null) {
      throw new InvalidStateError('A connected database is written only inside a transaction: use `await db.transactionAsync(() => ...)`')
    }
    call.commits.push(ops.slice())
  }

  /** Commits a group of calls, retrying on a lost connection until the earliest deadline. */
  async #commitBatch(batch: Call[]): Promise<void> {
    const deadline = Math.min(...batch.map((c) => c.deadline))
    for (;;) {
      let client: pg.Client
      try {
        client = await this.#conn.client(deadline)
      } catch (error) {
        return settleFailed(batch, error)
      }
      try {
        // Lock-free (one round trip, the head row locked by that statement only) while other
        // processes are not writing too. Under contention a lost race costs a round trip and the
        // next try loses again: the locked path queues for the head row in the server instead.
        if (!this.#contended && !this.#syncer.dirty && this.#notified <= this.#replica.position) {
          if (await this.#attemptOptimistic(client, batch)) return
          this.#contended = true
        }
        return await this.#attempt(client, batch)
      } catch (error) {
        this.#conn.drop(client)
        if (!isConnectionLoss(error) || Date.now() >= deadline) return settleFailed(batch, error)
      }
    }
  }

  /**
   * The fast path: runs the bodies on the replica as it is, then commits with one statement that
   * moves the head only if no other process committed since (see Statements.appendIf). False when
   * one did: everything is undone and the replica has caught up with what that round trip read.
   */
  async #attemptOptimistic(client: pg.Client, batch: Call[]): Promise<boolean> {
    const base = this.#replica.position
    const commits = this.#runBodies(batch)
    const commitId = randomUUID()
    let outcome: { won: boolean; entries: Entry[] }
    try {
      outcome =
        commits.length === 0
          ? await this.#readOnlyCheck(client, base)
          : await this.#sql.appendIf(client, this.#options.name, base, commitId, frame(commits), this.#channel)
    } catch (error) {
      const doubt = commits.length > 0 && isConnectionLoss(error) && !neverSent(error) ? await this.#inDoubt(commitId, batch, commits) : 'lost'
      if (doubt === 'unknown') return true
      if (doubt === 'lost') throw (this.#undo(batch, commits), error)
      outcome = { won: true, entries: [] }
    }
    if (!outcome.won) {
      this.#undo(batch, commits)
      await this.#syncer.catchUp(client, base + 1, outcome.entries)
      return false
    }
    this.#committed(batch, commits.length === 0 ? base : base + 1)
    return true
  }

  /** A read-only batch's check: no entry after `base` means the replica it ran on was current. */
  async #readOnlyCheck(client: pg.Client, base: number): Promise<{ won: boolean; entries: Entry[] }> {
    const entries = await this.#sql.entriesAfter(client, this.#options.name, base)
    return { won: entries.length === 0, entries }
  }

  /**
   * The locked path, two round trips: lock the head and read what is missing; run the bodies;
   * append and commit. Throws a connection loss only when nothing of the batch was committed.
   */
  async #attempt(client: pg.Client, batch: Call[]): Promise<void> {
    const name = this.#options.name
    let head: number
    try {
      const locked = await this.#sql.lockAndRead(client, name, this.#replica.position)
      head = locked.head
      // The way back to the fast path: no other process committed since this one's last commit.
      this.#contended = head > this.#lastOwn
      await this.#syncer.catchUp(client, head, locked.entries)
    } catch (error) {
      await rollback(client)
      throw asLockTimeout(error) ?? error
    }
    const commits = this.#runBodies(batch)
    if (commits.length === 0) {
      await client.query('COMMIT')
      return this.#committed(batch, head)
    }
    const position = head + 1
    const commitId = randomUUID()
    try {
      await this.#sql.appendAndCommit(client, name, position, commitId, frame(commits), this.#channel)
    } catch (error) {
      const outcome = isConnectionLoss(error) && !neverSent(error) ? await this.#inDoubt(commitId, batch, commits) : 'lost'
      if (outcome === 'unknown') return
      if (outcome === 'lost') {
        this.#undo(batch, commits)
        await rollback(client)
        throw error
      }
    }
    this.#committed(batch, position)
  }

  /** Runs each body in its own local transaction; the change sets of those that committed. */
  #runBodies(batch: Call[]): Op[][] {
    const commits: Op[][] = []
    for (const call of batch) {
      if (call.done) continue
      call.commits = []
      call.failed = false
      this.#current = call
      try {
        call.result = call.run()
      } catch (error) {
        // Not settled yet: on a replica found stale afterwards, the body runs again.
        call.failed = true
        call.error = error
      } finally {
        this.#current = null
      }
      commits.push(...call.commits)
    }
    return commits
  }

  /**
   * The commit's acknowledgement was lost: looks its id up. `unknown` (the server stayed out of
   * reach) rejects the calls with `ConnectionError` saying so, and rebuilds the replica from the
   * log before its next use.
   */
  async #inDoubt(commitId: string, batch: Call[], commits: Op[][]): Promise<'landed' | 'lost' | 'unknown'> {
    const deadline = Math.max(Date.now() + this.#options.lockTimeoutMs, ...batch.map((c) => c.deadline))
    this.#syncer.holding = true // the replica holds the commit: no catch-up may apply it twice
    try {
      return (await this.#syncer.findCommit(this.#conn, commitId, deadline)) ? 'landed' : 'lost'
    } catch (error) {
      // Reads show what is known to be committed: the rebuild brings the commit back if it landed.
      this.#undo(batch, commits)
      this.#syncer.dirty = true
      settleFailed(batch, new ConnectionError('The connection was lost during a commit and its outcome could not be looked up in time: it may have been applied', { cause: error }))
      return 'unknown'
    } finally {
      this.#syncer.holding = false
    }
  }

  #undo(batch: Call[], commits: Op[][]): void {
    if (!this.#replica.undo(commits)) this.#syncer.dirty = true
    for (const call of batch) call.commits = []
  }

  /** The batch's commits are durable at `position` (or it wrote nothing): tell and settle. */
  #committed(batch: Call[], position: number): void {
    const every = this.#options.snapshotEvery
    const moved = position !== this.#replica.position
    this.#replica.position = position
    if (moved) this.#lastOwn = position
    this.#replica.publish(position, batch.flatMap((call) => call.commits))
    settleDone(batch)
    // Whoever crosses the threshold takes the snapshot, of the state at exactly this position.
    if (moved && every > 0 && position % every === 0) {
      const state = this.#replica.snapshot()
      void this.#enqueue(() => this.#syncer.saveSnapshot(this.#conn, position, state, KEEP_SNAPSHOTS, this.#options.lockTimeoutMs)).catch(() => {})
    }
  }

  /** Another process committed: one catch-up at a time, to the highest position announced. */
  #onNotify(payload: string): void {
    const space = payload.indexOf(' ')
    if (payload.slice(space + 1) !== this.#options.name || this.#closed) return
    this.#notified = Math.max(this.#notified, Number(payload.slice(0, space)))
    this.#catchUpSoon()
  }

  #catchUpSoon(): void {
    if (this.#notified <= this.#replica.position || this.#catchingUp) return
    this.#catchingUp = true
    void this.#enqueue(async () => {
      this.#catchingUp = false
      // A commit under way or queued catches up itself (under the head lock, in its round trip),
      // and queues this again when it is done.
      if (this.#notified <= this.#replica.position || this.#draining) return
      await this.#syncer.catchUp(await this.#conn.client(Date.now() + this.#options.lockTimeoutMs), this.#notified)
    }).catch(() => {})
  }

  /** A connection lost while idle comes back by itself, so other processes' commits keep coming. */
  #reconnectSoon(): void {
    if (this.#closed || this.#reconnecting) return
    this.#reconnecting = true
    const timer = setTimeout(() => {
      this.#reconnecting = false
      if (this.#closed) return
      this.#enqueue(async () => void (await this.#conn.client(Date.now() + this.#options.lockTimeoutMs))).catch(() => this.#reconnectSoon())
    }, 100)
    timer.unref()
  }
}

function settleDone(batch: Call[]): void {
  for (const call of batch) {
    if (call.done) continue
    call.done = true
    if (call.failed) call.reject(call.error)
    else call.resolve(call.result)
  }
}

function settleFailed(batch: Call[], error: unknown): void {
  const reason = error instanceof DictDBError ? error : isConnectionLoss(error) ? new ConnectionError(`Lost the PostgreSQL server: ${(error as Error).message}`, { cause: error }) : error
  for (const call of batch) if (!call.done) ((call.done = true), call.reject(reason))
}

/** node-postgres refused the query before sending it: its client was already closed or broken. */
function neverSent(error: unknown): boolean {
  return error instanceof Error && /not queryable/.test(error.message)
}

async function rollback(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => {})
}
