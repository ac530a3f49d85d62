import type pg from 'pg'
import { quoteIdent } from './connection'

/** A log entry: one commit of the head (one or more change sets). */
export interface Entry {
  position: number
  ops: Buffer
}

/** Entries read per query. */
export const PAGE = 1000

/**
 * The statements of the connected log. Three tables, shared by every dictdb database of a
 * PostgreSQL database (a row per dictdb database, `name`):
 * - head: one row per database, its latest log position. Every writing transaction locks it
 *   (`SELECT … FOR UPDATE`) and moves it: that row is where commits are ordered, so positions
 *   are gap-free and in commit order (a bare sequence is neither).
 * - log: one row per commit of the head (a group of `transactionAsync` calls), its change sets.
 * - snapshot: the state at a position, for processes that join; the log before the oldest
 *   kept snapshot is pruned.
 */
export class Statements {
  readonly head: string
  readonly log: string
  readonly snapshot: string

  constructor(prefix: string) {
    this.head = quoteIdent(`${prefix}head`)
    this.log = quoteIdent(`${prefix}log`)
    this.snapshot = quoteIdent(`${prefix}snapshot`)
  }

  /** Creates the tables and the database's head row (idempotent; safe to run concurrently). */
  async install(client: pg.Client, name: string): Promise<void> {
    const ddl = [
      `CREATE TABLE IF NOT EXISTS ${this.head} (name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0)`,
      `CREATE TABLE IF NOT EXISTS ${this.log} (name text NOT NULL, position bigint NOT NULL, commit_id uuid NOT NULL UNIQUE, ops bytea NOT NULL, PRIMARY KEY (name, position))`,
      `CREATE TABLE IF NOT EXISTS ${this.snapshot} (name text NOT NULL, position bigint NOT NULL, state bytea NOT NULL, PRIMARY KEY (name, position))`,
    ]
    for (let attempt = 0; ; attempt++) {
      try {
        for (const statement of ddl) await client.query(statement)
        break
      } catch (error) {
        // Two processes creating the same table at once: one loses on the catalog's unique index.
        const code = (error as { code?: string }).code
        if ((code !== '23505' && code !== '42P07') || attempt >= 5) throw error
      }
    }
    await client.query(`INSERT INTO ${this.head} (name) VALUES ($1) ON CONFLICT DO NOTHING`, [name])
  }

  /** Locks the head row (inside a transaction); its position. */
  async lockHead(client: pg.Client, name: string): Promise<number> {
    const { rows } = await client.query<{ position: string }>(`SELECT position FROM ${this.head} WHERE name = $1 FOR UPDATE`, [name])
    return Number(rows[0]?.position ?? 0)
  }

  /** Appends one log entry, moves the head and announces the position, in one round trip. */
  async append(client: pg.Client, name: string, position: number, commitId: string, ops: Uint8Array, channel: string): Promise<void> {
    await client.query(
      `WITH entry AS (INSERT INTO ${this.log} (name, position, commit_id, ops) VALUES ($1, $2, $3, $4)),
            head AS (UPDATE ${this.head} SET position = $2 WHERE name = $1)
       SELECT pg_notify($5, $6)`,
      [name, position, commitId, ops, channel, `${position} ${name}`],
    )
  }

  /**
   * The fast path, in one round trip: appends the entry and moves the head only if the head is
   * still at `base` (a version check: the head row is locked by this statement only, never
   * across round trips). On a lost race, the same round trip brings back the entries committed
   * since `base` (the second statement sees what the first waited for), so a retry can go at once.
   */
  async appendIf(client: pg.Client, name: string, base: number, commitId: string, ops: Uint8Array, channel: string): Promise<{ won: boolean; entries: Entry[] }> {
    const n = client.escapeLiteral(name)
    const results = await multi(
      client,
      `WITH head AS (UPDATE ${this.head} SET position = ${base + 1} WHERE name = ${n} AND position = ${base} RETURNING position),
            entry AS (INSERT INTO ${this.log} (name, position, commit_id, ops) SELECT ${n}, position, '${uuid(commitId)}', ${bytea(ops)} FROM head)
       SELECT pg_notify(${client.escapeLiteral(channel)}, position || ' ' || ${n}) FROM head;
       ${this.#entriesSql(n, base, PAGE, `AND commit_id <> '${uuid(commitId)}'`)}`,
    )
    return { won: results[0]?.rowCount === 1, entries: toEntries(results[1]) }
  }

  /**
   * The locked path's first round trip: opens a transaction, locks the head row (waiting in the
   * server's queue behind the holder) and reads the entries after `after` once it has it.
   */
  async lockAndRead(client: pg.Client, name: string, after: number): Promise<{ head: number; entries: Entry[] }> {
    const n = client.escapeLiteral(name)
    const results = await multi(client, `BEGIN; SELECT position FROM ${this.head} WHERE name = ${n} FOR UPDATE; ${this.#entriesSql(n, after, PAGE, '')}`)
    return { head: Number(results[1]?.rows[0]?.position ?? 0), entries: toEntries(results[2]) }
  }

  /** The locked path's second round trip: appends the entry, moves the head, announces it and commits. */
  async appendAndCommit(client: pg.Client, name: string, position: number, commitId: string, ops: Uint8Array, channel: string): Promise<void> {
    const n = client.escapeLiteral(name)
    await multi(
      client,
      `WITH entry AS (INSERT INTO ${this.log} (name, position, commit_id, ops) VALUES (${n}, ${position}, '${uuid(commitId)}', ${bytea(ops)})),
            head AS (UPDATE ${this.head} SET position = ${position} WHERE name = ${n})
       SELECT pg_notify(${client.escapeLiteral(channel)}, ${client.escapeLiteral(`${position} ${name}`)}); COMMIT`,
    )
  }

  #entriesSql(n: string, after: number, limit: number, extra: string): string {
    return `SELECT position, ops FROM ${this.log} WHERE name = ${n} AND position > ${after} ${extra} ORDER BY position LIMIT ${limit}`
  }

  /** The entries after `position`, oldest first, at most `limit`; the first position the log still has. */
  async entriesAfter(client: pg.Client, name: string, position: number, limit: number = PAGE): Promise<Entry[]> {
    const result = await client.query<{ position: string; ops: Buffer }>(
      `SELECT position, ops FROM ${this.log} WHERE name = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [name, position, limit],
    )
    return toEntries(result)
  }

  /** The head's position, without locking it. */
  async headPosition(client: pg.Client, name: string): Promise<number> {
    const { rows } = await client.query<{ position: string }>(`SELECT position FROM ${this.head} WHERE name = $1`, [name])
    return Number(rows[0]?.position ?? 0)
  }

  /** Where a commit landed, if it did (resolves a commit whose acknowledgement was lost). */
  async findCommit(client: pg.Client, commitId: string): Promise<number | null> {
    const { rows } = await client.query<{ position: string }>(`SELECT position FROM ${this.log} WHERE commit_id = $1`, [commitId])
    return rows[0] === undefined ? null : Number(rows[0].position)
  }

  /** The latest snapshot, if any. */
  async latestSnapshot(client: pg.Client, name: string): Promise<{ position: number; state: Buffer } | null> {
    const { rows } = await client.query<{ position: string; state: Buffer }>(
      `SELECT position, state FROM ${this.snapshot} WHERE name = $1 ORDER BY position DESC LIMIT 1`,
      [name],
    )
    return rows[0] === undefined ? null : { position: Number(rows[0].position), state: rows[0].state }
  }

  /** Stores a snapshot, keeps the newest `keep`, and prunes the log up to the oldest kept one. */
  async saveSnapshot(client: pg.Client, name: string, position: number, state: Uint8Array, keep: number): Promise<void> {
    await client.query('BEGIN')
    try {
      await client.query(`INSERT INTO ${this.snapshot} (name, position, state) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [name, position, state])
      const { rows } = await client.query<{ position: string }>(
        `SELECT position FROM ${this.snapshot} WHERE name = $1 ORDER BY position DESC OFFSET $2 LIMIT 1`,
        [name, keep - 1],
      )
      const oldest = rows[0]?.position
      if (oldest !== undefined) {
        await client.query(`DELETE FROM ${this.snapshot} WHERE name = $1 AND position < $2`, [name, oldest])
        await client.query(`DELETE FROM ${this.log} WHERE name = $1 AND position <= $2`, [name, oldest])
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
  }
}

/**
 * Several statements in one round trip (the simple query protocol, which takes no parameters:
 * the callers put in only numbers, UUIDs they made, hex and `escapeLiteral`ed strings).
 */
async function multi(client: pg.Client, text: string): Promise<pg.QueryResult[]> {
  const result = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[]
  return Array.isArray(result) ? result : [result]
}

function toEntries(result: pg.QueryResult | undefined): Entry[] {
  return (result?.rows ?? []).map((row: { position: string; ops: Buffer }) => ({ position: Number(row.position), ops: row.ops }))
}

/** A bytea literal (hex: no character of it needs escaping). */
function bytea(bytes: Uint8Array): string {
  return `'\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}'::bytea`
}

/** A UUID made by this process, checked before it goes into SQL text. */
function uuid(id: string): string {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new TypeError(`Not a UUID: ${id}`)
  return id
}
