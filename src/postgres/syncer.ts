import type pg from 'pg'
import { ConnectionError } from '../errors'
import type { Connection } from './connection'
import { ASYNC_COMMIT } from './early'
import type { ConnectedReplica } from './replica'
import { type Entry, PAGE, type Statements } from './sql'
import { shortName } from '../values/describe'

/**
 * Keeps a replica caught up with the PostgreSQL log: by query, after every notification, every
 * (re)connection and under the head lock before every commit — never from a notification's
 * payload, which a reconnect can lose. Joins from the latest snapshot; rebuilds when the log
 * was pruned past the replica or when the replica's state is in doubt.
 */
export class Syncer {
  readonly #replica: ConnectedReplica
  readonly #sql: Statements
  readonly #name: string
  #installed = false
  /** The replica holds a commit whose outcome is being looked up: catching up could apply it twice. */
  holding = false
  /** The replica may hold changes that are not in the log: rebuild it before its next use. */
  dirty = false
  /** How many times the replica was rebuilt (from a snapshot): what it held locally is gone. */
  rebuilds = 0
  /** Early path: the log is durable up to here (a flush this process saw end covered it). */
  #durable = 0

  constructor(replica: ConnectedReplica, sql: Statements, name: string) {
    this.#replica = replica
    this.#sql = sql
    this.#name = name
  }

  /** After each (re)connection: the tables on the first one, then whatever was missed. */
  async onConnect(client: pg.Client): Promise<void> {
    if (!this.#installed) {
      await this.#sql.install(client, this.#name)
      this.#installed = true
      this.dirty = true // join: the latest snapshot, then the log after it
    }
    if (this.#sql.early) await client.query(ASYNC_COMMIT)
    if (!this.holding) await this.catchUp(client, await this.#sql.headPosition(client, this.#name))
  }

  /**
   * Up to where the log is known durable: every entry up to it may be applied. On the v3 path
   * every commit is flushed before anyone can see it: all of it.
   */
  get durable(): number {
    return this.#sql.early ? this.#durable : Infinity
  }

  /**
   * A flush that began after `position` was committed has ended (a commit's answer, a flushing
   * read): the log is durable up to there (WAL is written in order).
   */
  flushed(position: number): void {
    if (position > this.#durable) this.#durable = position
  }

  /**
   * Applies the log up to `target` at least (none past `limit`), starting with `fetched` (entries
   * a commit's round trip already brought back) and querying for the rest. Applies nothing past
   * `durable`: a query for more flushes in its round trip (see early.ts).
   */
  async catchUp(client: pg.Client, target: number, fetched: Entry[] | null = null, limit = Infinity): Promise<void> {
    if (this.dirty) await this.#fromSnapshot(client, true)
    while (this.#replica.position < target) {
      const after = this.#replica.position
      // Fetched entries that do not follow this replica (it was rebuilt since), or not known durable: query instead.
      const usable = fetched?.filter((entry) => entry.position > after && entry.position <= this.durable)
      const found = usable?.[0]?.position === after + 1 ? usable : await this.#read(client, after, target)
      const entries = found.filter((entry) => entry.position <= Math.min(limit, this.durable))
      fetched = null
      if (entries[0]?.position !== this.#replica.position + 1) {
        // Pruned past this replica: the snapshot that replaced those entries is newer than it.
        if (!(await this.#fromSnapshot(client, false))) {
          throw new ConnectionError(`The log of \`${shortName(this.#name)}\` has no entry after position ${this.#replica.position} and no newer snapshot`)
        }
        continue
      }
      for (const entry of entries) this.#replica.applyEntry(entry.position, entry.ops)
    }
  }

  /** The entries after `after`; flushed first if some up to `target` are not known durable. */
  async #read(client: pg.Client, after: number, target: number): Promise<Entry[]> {
    const flush = target > this.durable
    const entries = await this.#sql.entriesAfter(client, this.#name, after, PAGE, flush)
    if (flush) this.flushed(entries.at(-1)?.position ?? 0)
    return entries
  }

  /** Where a commit id is in the log (null: not there), waiting out the lock of the session that sent it. */
  async findCommit(conn: Connection, commitId: string, deadline: number): Promise<number | null> {
    for (;;) {
      const client = await conn.client(deadline)
      try {
        await client.query('BEGIN')
        // The old session's transaction holds the head until the server has ended it.
        await this.#sql.lockHead(client, this.#name)
        const position = await this.#sql.findCommit(client, commitId)
        await client.query('COMMIT')
        if (position !== null) this.flushed(position)
        return position
      } catch (error) {
        conn.drop(client)
        if (Date.now() >= deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  async saveSnapshot(conn: Connection, position: number, state: Uint8Array, keep: number, timeoutMs: number): Promise<void> {
    const client = await conn.client(Date.now() + timeoutMs)
    await this.#sql.saveSnapshot(client, this.#name, position, state, keep)
  }

  /** Loads the latest snapshot (`always`: even one older than the replica); whether it did. */
  async #fromSnapshot(client: pg.Client, always: boolean): Promise<boolean> {
    const snapshot = await this.#sql.latestSnapshot(client, this.#name)
    if (!always && (snapshot === null || snapshot.position <= this.#replica.position)) return false
    this.#replica.reset(snapshot?.position ?? 0, snapshot?.state ?? null)
    this.dirty = false
    this.rebuilds++
    return true
  }
}
