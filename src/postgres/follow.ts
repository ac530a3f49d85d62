import type pg from 'pg'
import type { Connection } from './connection'
import type { ConnectedReplica } from './replica'
import type { Syncer } from './syncer'

/** What a Follower needs of its log (PgLog). */
export interface FollowedLog {
  readonly name: string
  readonly lockTimeoutMs: number
  readonly replica: ConnectedReplica
  readonly syncer: Syncer
  readonly conn: Connection
  /** Runs a task after the log's others: commits and catch-ups never interleave. */
  enqueue(task: () => Promise<void>): Promise<void>
  /** A commit is under way: it catches up in its own round trip. */
  draining(): boolean
  closed(): boolean
}

/**
 * Commits closer together than this (ms) are back to back: the process stops listening until
 * it has made none for this long.
 */
export const QUIET_MS = 20

/**
 * Follows the other processes' commits between this process's own: a notification asks for a
 * catch-up by query (one at a time, to the highest position announced), and a connection lost
 * while idle comes back by itself, so notifications keep coming.
 *
 * A process committing back to back does not listen: the answer to each of its commits brings
 * the entries other processes committed since its last one, so notifications would only cost
 * the server a signal and a message per listener and commit. Once it has been quiet for
 * QUIET_MS it listens again and catches up by query.
 */
export class Follower {
  readonly #log: FollowedLog
  /** The highest position other processes announced. */
  notified = 0
  /** A catch-up to `notified` is queued. */
  #catchingUp = false
  #reconnecting = false
  /** When this process's last commit ended (performance.now()). */
  #lastCommit = Number.NEGATIVE_INFINITY
  /** Fires QUIET_MS after the last commit while not listening (made once, refreshed). */
  #quiet: ReturnType<typeof setTimeout> | null = null

  constructor(log: FollowedLog) {
    this.#log = log
  }

  /** Before a commit (in the log's chain): one that follows the last closely stops listening. */
  async committing(client: pg.Client): Promise<void> {
    const conn = this.#log.conn
    if (conn.listening && performance.now() - this.#lastCommit < QUIET_MS) await conn.listen(client, false)
  }

  /** After a commit (settled or failed). */
  committed(): void {
    this.#lastCommit = performance.now()
  }

  /** No commit is under way any more: catch up now if listening, else listen again once quiet. */
  idle(): void {
    if (this.#log.conn.listening) return this.catchUpSoon()
    if (this.#quiet === null) {
      this.#quiet = setTimeout(() => this.#listenAgain(), QUIET_MS)
      this.#quiet.unref()
    } else this.#quiet.refresh()
  }

  /** Closing: no more timers. */
  stop(): void {
    if (this.#quiet !== null) clearTimeout(this.#quiet)
  }

  #listenAgain(): void {
    const log = this.#log
    // A commit under way: it calls idle() again when the drain ends.
    if (log.closed() || log.draining() || log.conn.listening) return
    void log
      .enqueue(async () => {
        if (log.closed() || log.draining() || log.conn.listening) return
        const client = await log.conn.client(Date.now() + log.lockTimeoutMs)
        // Listening first: a commit made after the head is read below is announced.
        await log.conn.listen(client, true)
        await log.syncer.catchUp(client, await log.syncer.head(client))
      })
      .catch(() => {})
  }

  /** A notification on the log's channel: `position name`. */
  onNotify(payload: string): void {
    const space = payload.indexOf(' ')
    if (payload.slice(space + 1) !== this.#log.name || this.#log.closed()) return
    this.notified = Math.max(this.notified, Number(payload.slice(0, space)))
    this.catchUpSoon()
  }

  /** Queues a catch-up to the position announced, unless one is queued or a commit is under way. */
  catchUpSoon(): void {
    const log = this.#log
    // A commit under way catches up in its own round trip (and calls this again once drained).
    if (this.notified <= log.replica.position || this.#catchingUp || log.draining()) return
    this.#catchingUp = true
    void log
      .enqueue(async () => {
        this.#catchingUp = false
        // A commit queued meanwhile catches up itself.
        if (this.notified <= log.replica.position || log.draining()) return
        await log.syncer.catchUp(await log.conn.client(Date.now() + log.lockTimeoutMs), this.notified)
      })
      .catch(() => {})
  }

  /** A connection was lost: it is made again shortly, whether or not a write needs it. */
  reconnectSoon(): void {
    const log = this.#log
    if (log.closed() || this.#reconnecting) return
    this.#reconnecting = true
    const timer = setTimeout(() => {
      this.#reconnecting = false
      if (log.closed()) return
      log.enqueue(async () => void (await log.conn.client(Date.now() + log.lockTimeoutMs))).catch(() => this.reconnectSoon())
    }, 100)
    timer.unref()
  }
}
