import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { ConnectionError } from '../errors'
import type { Op } from '../storage/change'
import { type Bodies, type Call, neverSent, rollback, settleDone, settleFailed } from './calls'
import { type Connection, asLockTimeout, isConnectionLoss } from './connection'
import type { PgLogOptions } from './log'
import { type ConnectedReplica, frame } from './replica'
import type { Entry, Statements } from './sql'
import type { Syncer } from './syncer'

/** Snapshots kept in PostgreSQL; the log before the oldest is pruned. */
const KEEP_SNAPSHOTS = 2
/** Batches committed on the locked path after a validated commit met a conflict. */
const LOCKED_RUN = 8

/** What committing needs of a connected log (`PgLog`). */
export interface CommitParts {
  readonly options: PgLogOptions
  readonly replica: ConnectedReplica
  readonly sql: Statements
  readonly conn: Connection
  readonly syncer: Syncer
  readonly bodies: Bodies
  /** The channel a commit notifies. */
  readonly channel: string
  /** Queues a task behind the log's other tasks (a snapshot to save). */
  readonly enqueue: (task: () => Promise<void>) => Promise<void>
}

/**
 * Commits one batch of calls to the head of a connected log, on the validated path while it
 * succeeds and on the locked path for a while after a conflict; looks a commit whose
 * acknowledgement was lost up by its id; settles the calls. One per log; the log runs it for one
 * batch at a time.
 */
export class Committer {
  readonly #options: PgLogOptions
  readonly #replica: ConnectedReplica
  readonly #sql: Statements
  readonly #conn: Connection
  readonly #syncer: Syncer
  readonly #bodies: Bodies
  readonly #channel: string
  readonly #enqueue: (task: () => Promise<void>) => Promise<void>
  /** Batches still to commit on the locked path (a validated commit met a conflict). */
  #lockedFor = 0
  /** The log position of this process's latest commit. */
  #lastOwn = 0

  constructor(parts: CommitParts) {
    this.#options = parts.options
    this.#replica = parts.replica
    this.#sql = parts.sql
    this.#conn = parts.conn
    this.#syncer = parts.syncer
    this.#bodies = parts.bodies
    this.#channel = parts.channel
    this.#enqueue = parts.enqueue
  }

  /** Commits a group of calls, retrying on a lost connection until the earliest deadline. */
  async commit(batch: Call[]): Promise<void> {
    const deadline = Math.min(...batch.map((c) => c.deadline))
    for (;;) {
      let client: pg.Client
      try {
        client = await this.#conn.client(deadline)
      } catch (error) {
        return settleFailed(batch, error)
      }
      try {
        // Validated while it succeeds. After a conflict, the next try would likely meet one too
        // (the same records are hot): the locked path queues for the head row in the server.
        if (this.#lockedFor === 0 && !this.#syncer.dirty) {
          if (await this.#attemptValidated(client, batch)) return
          this.#lockedFor = LOCKED_RUN
        }
        this.#lockedFor = Math.max(0, this.#lockedFor - 1)
        return await this.#attempt(client, batch)
      } catch (error) {
        this.#conn.drop(client)
        if (!isConnectionLoss(error) || Date.now() >= deadline) return settleFailed(batch, error)
      }
    }
  }

  /**
   * The validated path: runs the bodies on the replica as it is, then commits in one round trip
   * if nothing they read was written since (see Statements.commitIf). False on a conflict:
   * everything is undone and the replica has caught up with what that round trip read.
   */
  async #attemptValidated(client: pg.Client, batch: Call[]): Promise<boolean> {
    const base = this.#replica.position
    const commits = this.#bodies.run(batch)
    const writes = this.#bodies.footprint.writes(commits)
    const check = { reads: [...this.#bodies.footprint.reads], writes }
    if (commits.length === 0) {
      const { ok, entries } = await this.#sql.unchanged(client, this.#options.name, base, check.reads)
      if (ok) this.#committed(batch, base)
      await this.#syncer.catchUp(client, entries.at(-1)?.position ?? base, entries)
      return ok
    }
    const commitId = randomUUID()
    let outcome: { position: number | null; entries: Entry[] }
    try {
      outcome = await this.#sql.commitIf(client, this.#options.name, base, check, commitId, frame(commits), this.#channel)
      // Its answer comes after the flush: its entry and those it brought back are durable.
      this.#syncer.flushed(Math.max(outcome.position ?? 0, outcome.entries.at(-1)?.position ?? 0))
    } catch (error) {
      // An error of the statement (not a lost connection): the transaction is aborted.
      const doubt = await this.#failed(error, client, commitId, batch, commits, !isConnectionLoss(error))
      if (doubt === 'unknown') return true
      outcome = { position: doubt, entries: [] }
    }
    if (outcome.position === null) {
      this.#undo(batch, commits)
      await this.#syncer.catchUp(client, outcome.entries.at(-1)?.position ?? base, outcome.entries)
      return false
    }
    await this.#landed(batch, base, outcome.position, outcome.entries)
    return true
  }

  /**
   * A validated commit landed at `position`: the replica takes the other processes' entries
   * before it (they wrote nothing the batch read, so they apply on top of its changes), then the
   * batch's, then those after. Never throws: the commit stands whatever happens here.
   */
  async #landed(batch: Call[], base: number, position: number, entries: Entry[]): Promise<void> {
    try {
      const client = await this.#conn.client(Date.now() + this.#options.lockTimeoutMs)
      const rebuilds = this.#syncer.rebuilds
      if (position > base + 1) await this.#syncer.catchUp(client, position - 1, entries, position - 1)
      // Rebuilt from a snapshot meanwhile (the log was pruned): the batch comes back from the log.
      if (this.#syncer.rebuilds !== rebuilds) await this.#syncer.catchUp(client, position, null, position)
      this.#committed(batch, position, this.#syncer.rebuilds === rebuilds)
      await this.#syncer.catchUp(client, entries.at(-1)?.position ?? position, entries)
    } catch {
      // The replica's place in the log is unknown: it is rebuilt from the log before its next use.
      this.#syncer.dirty = true
      this.#lastOwn = position
      settleDone(batch)
    }
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
      this.#syncer.flushed(head) // read under the lock, then flushed (early)
      // The way back to the validated path: no other process committed since this one's last commit.
      if (head === this.#lastOwn) this.#lockedFor = 0
      await this.#syncer.catchUp(client, head, locked.entries)
    } catch (error) {
      await rollback(client)
      throw asLockTimeout(error) ?? error
    }
    const commits = this.#bodies.run(batch)
    if (commits.length === 0) {
      await client.query('COMMIT')
      return this.#committed(batch, head)
    }
    const position = head + 1
    const commitId = randomUUID()
    try {
      await this.#sql.appendAndCommit(client, name, position, commitId, frame(commits), this.#bodies.footprint.writes(commits), this.#channel)
      this.#syncer.flushed(position)
    } catch (error) {
      if ((await this.#failed(error, client, commitId, batch, commits, true)) === 'unknown') return
    }
    this.#committed(batch, position)
  }

  /**
   * After the commit statement failed with `error`: the position it landed at after all, or
   * `unknown` (see {@link #inDoubt}). If it was lost, undoes the batch, rolls the transaction back
   * if `rollsBack`, and rethrows `error`.
   */
  async #failed(error: unknown, client: pg.Client, commitId: string, batch: Call[], commits: Op[][], rollsBack: boolean): Promise<number | 'unknown'> {
    const outcome = this.#doubtful(error) ? await this.#inDoubt(commitId, batch, commits) : 'lost'
    if (outcome !== 'lost') return outcome
    this.#undo(batch, commits)
    if (rollsBack) await rollback(client)
    throw error
  }

  /**
   * Whether a commit that failed with `error` may have landed. A lost connection after sending;
   * on the early path also an error of the statement (the flush after the ordering transaction's
   * `COMMIT` can fail), except a lock timeout, which comes before it.
   */
  #doubtful(error: unknown): boolean {
    if (neverSent(error)) return false
    return isConnectionLoss(error) || (this.#sql.early && asLockTimeout(error) === null)
  }

  /**
   * The commit's acknowledgement was lost: looks its id up. `unknown` (the server stayed out of
   * reach) rejects the calls with `ConnectionError` saying so, and rebuilds the replica from the
   * log before its next use.
   */
  async #inDoubt(commitId: string, batch: Call[], commits: Op[][]): Promise<number | 'lost' | 'unknown'> {
    const deadline = Math.max(Date.now() + this.#options.lockTimeoutMs, ...batch.map((c) => c.deadline))
    this.#syncer.holding = true // the replica holds the commit: no catch-up may apply it twice
    try {
      return (await this.#syncer.findCommit(this.#conn, commitId, deadline)) ?? 'lost'
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

  /**
   * The batch's commits are durable at `position` (or it wrote nothing): tell (unless the replica
   * got them from the log) and settle.
   */
  #committed(batch: Call[], position: number, publish = true): void {
    const every = this.#options.snapshotEvery
    const moved = position !== this.#replica.position
    this.#replica.position = position
    if (moved) this.#lastOwn = position
    if (publish) this.#replica.publish(position, batch.flatMap((call) => call.commits))
    settleDone(batch)
    // Whoever crosses the threshold takes the snapshot, of the state at exactly this position.
    if (moved && every > 0 && position % every === 0) {
      const state = this.#replica.snapshot()
      void this.#enqueue(() => this.#syncer.saveSnapshot(this.#conn, position, state, KEEP_SNAPSHOTS, this.#options.lockTimeoutMs)).catch(() => {})
    }
  }
}
