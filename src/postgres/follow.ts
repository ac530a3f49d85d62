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
 * Follows the other processes' commits between this process's own: a notification asks for a
 * catch-up by query (one at a time, to the highest position announced), and a connection lost
 * while idle comes back by itself, so notifications keep coming.
 */
export class Follower {
  readonly #log: FollowedLog
  /** The highest position other processes announced. */
  notified = 0
  /** A catch-up to `notified` is queued. */
  #catchingUp = false
  #reconnecting = false

  constructor(log: FollowedLog) {
    this.#log = log
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

  /**
   * A connection was lost: it is made again shortly, whether or not a write needs it. What its
   * notifications announced past the replica is forgotten: a server crash can lose a commit whose
   * notification went out before its flush (see early.ts), and the catch-up on reconnecting
   * reads up to the head the log has.
   */
  reconnectSoon(): void {
    const log = this.#log
    this.notified = Math.min(this.notified, log.replica.position)
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
