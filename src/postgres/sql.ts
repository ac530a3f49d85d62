import type pg from 'pg'
import { quoteIdent } from './connection'
import { FLUSH, joinItems, unframeEntries } from './early'
import { PreparedStatement } from './prepared'
import { PAGE, clear, earlyRefusal, install } from './install'

/** What a validated commit is checked by and records (see Footprint). */
export interface Check {
  readonly reads: readonly string[]
  readonly writes: readonly string[]
}

/** A log entry: one commit of the head (one or more change sets). */
export interface Entry {
  position: number
  ops: Buffer
}

export { PAGE }

/**
 * The statements of the connected log. Four tables, shared by every dictdb database of a
 * PostgreSQL database (a row per dictdb database, `name`):
 * - head: one row per database, its latest log position. Every writing transaction locks it
 *   (`SELECT … FOR UPDATE`) and moves it: that row is where commits are ordered, so positions
 *   are gap-free and in commit order (a bare sequence is neither).
 * - log: one row per commit of the head (a group of `transactionAsync` calls), its change sets
 *   and the items it wrote (see Footprint): a commit made on an older replica is validated
 *   against the entries after it.
 * - snapshot: the state at a position, for processes that join; the log before the oldest
 *   kept snapshot is pruned.
 */
export class Statements {
  readonly head: string
  readonly log: string
  readonly snapshot: string
  /** The validated commit, a function (its plans are kept by each session: nothing to parse per commit). */
  readonly commitFn: string
  readonly #commitCall: { name: string; text: string }
  /** The validated commit with early lock release, a procedure (see early.ts). */
  readonly procedure: string
  readonly #earlyCall: PreparedStatement
  /**
   * The commit path (see early.ts), chosen on the first connection: `early` releases the head
   * lock before the fsync and flushes before anything is applied; `v3` commits synchronously.
   */
  path: 'v3' | 'early' = 'v3'

  constructor(prefix: string) {
    this.head = quoteIdent(`${prefix}head`)
    this.log = quoteIdent(`${prefix}log`)
    this.snapshot = quoteIdent(`${prefix}snapshot`)
    this.commitFn = quoteIdent(`${prefix}commit_v3`)
    this.#commitCall = { name: `${prefix}commit_v3`, text: `SELECT pos, entry FROM ${this.commitFn}($1, $2, $3, $4, $5, $6, $7)` }
    this.procedure = quoteIdent(`${prefix}commit_v5`)
    // Every parameter text but the change set (bytes).
    this.#earlyCall = new PreparedStatement(`${prefix}commit_v5`, `CALL ${this.procedure}($1, $2, $3, $4, $5, $6, $7, NULL, NULL)`, [false, false, false, false, false, true, false])
  }

  /** Whether a commit must flush before what it read counts as durable (the early path). */
  get early(): boolean {
    return this.path === 'early'
  }

  /** Creates the tables, functions and the database's head row (idempotent; safe to run concurrently); picks the commit path. */
  async install(client: pg.Client, name: string): Promise<void> {
    this.path = await install(client, this, name)
  }

  /** Locks the head row (inside a transaction); its position. */
  async lockHead(client: pg.Client, name: string): Promise<number> {
    const { rows } = await client.query<{ position: string }>(`SELECT position FROM ${this.head} WHERE name = $1 FOR UPDATE`, [name])
    return Number(rows[0]?.position ?? 0)
  }

  /** Appends one log entry, moves the head and announces the position, in one round trip (the tests' way to write the log). */
  async append(client: pg.Client, name: string, position: number, commitId: string, ops: Uint8Array, channel: string): Promise<void> {
    await client.query(
      `WITH entry AS (INSERT INTO ${this.log} (name, position, commit_id, ops) VALUES ($1, $2, $3, $4)),
            head AS (UPDATE ${this.head} SET position = $2 WHERE name = $1)
       SELECT pg_notify($5, $6)`,
      [name, position, commitId, ops, channel, `${position} ${name}`],
    )
  }

  /**
   * The validated commit, one round trip (the commit function): waits for the head row's lock in
   * the server, then moves the head, appends the entry and records the items it writes — only if
   * no commit after `base` wrote an item in `reads` (see Footprint). The lock is held for the
   * server's work only, never across round trips. Brings back the entries after `base` before
   * this commit (other processes' commits, or on a conflict what the batch must run on again).
   */
  async commitIf(client: pg.Client, name: string, base: number, check: Check, commitId: string, ops: Uint8Array, channel: string): Promise<{ position: number | null; entries: Entry[] }> {
    if (this.early) {
      const row = await this.#earlyCall.run(client, [name, String(base), joinItems(check.reads), joinItems(check.writes), commitId, ops, channel])
      const pos = row?.[0] ?? null
      return { position: pos === null ? null : Number(pos), entries: unframeEntries(row?.[1] ?? null) }
    }
    const values = [name, base, check.reads, check.writes, commitId, Buffer.from(ops.buffer, ops.byteOffset, ops.byteLength), channel]
    const { rows } = await client.query<{ pos: string; entry: Buffer | null }>({ ...this.#commitCall, values })
    let position: number | null = null
    const entries: Entry[] = []
    for (const row of rows) {
      if (row.entry === null) position = Number(row.pos)
      else entries.push({ position: Number(row.pos), ops: row.entry })
    }
    return { position, entries }
  }

  /**
   * A read-only batch's check, without any lock: whether the items it read are unchanged since
   * `base` (its results then hold at the latest commit), and the entries after `base`.
   */
  async unchanged(client: pg.Client, name: string, base: number, reads: readonly string[]): Promise<{ ok: boolean; entries: Entry[] }> {
    const n = client.escapeLiteral(name)
    const unchanged = clear(this.log, n, String(base), 'h.position', textArray(client, reads))
    const results = await multi(client, `SELECT h.position = ${base} OR (h.position - ${base} <= ${PAGE} AND ${unchanged}) AS ok, h.early FROM ${this.head} h WHERE h.name = ${n}; ${this.#entriesSql(n, base, PAGE, '')}`)
    this.#refuseEarly(name, results[0]?.rows[0]?.early)
    return { ok: results[0]?.rows[0]?.ok === true, entries: toEntries(results[1]) }
  }

  /**
   * The locked path's first round trip: opens a transaction, locks the head row (waiting in the
   * server's queue behind the holder) and reads the entries after `after` once it has it.
   */
  async lockAndRead(client: pg.Client, name: string, after: number): Promise<{ head: number; entries: Entry[] }> {
    const n = client.escapeLiteral(name)
    // Early: what the entries' commits wrote is flushed before they are applied (see early.ts).
    const results = await multi(client, `BEGIN; SELECT position, early FROM ${this.head} WHERE name = ${n} FOR UPDATE; ${this.#entriesSql(n, after, PAGE, '')}${this.early ? `; ${FLUSH}` : ''}`)
    this.#refuseEarly(name, results[1]?.rows[0]?.early)
    return { head: Number(results[1]?.rows[0]?.position ?? 0), entries: toEntries(results[2]) }
  }

  /**
   * The locked path's second round trip: appends the entry, moves the head, announces it and
   * commits (early: releases the head before the fsync, then flushes before answering).
   */
  async appendAndCommit(client: pg.Client, name: string, position: number, commitId: string, ops: Uint8Array, writes: readonly string[], channel: string): Promise<void> {
    const n = client.escapeLiteral(name)
    const [before, after] = this.early ? ['SET LOCAL synchronous_commit TO off; ', `; ${FLUSH}`] : ['', '']
    await multi(
      client,
      `${before}WITH entry AS (INSERT INTO ${this.log} (name, position, commit_id, ops, writes) VALUES (${n}, ${position}, '${uuid(commitId)}', ${bytea(ops)}, ${textArray(client, writes)})),
            head AS (UPDATE ${this.head} SET position = ${position} WHERE name = ${n})
       /* locked */ SELECT pg_notify(${client.escapeLiteral(channel)}, ${client.escapeLiteral(`${position} ${name}`)}); COMMIT${after}`,
    )
  }

  #entriesSql(n: string, after: number, limit: number, extra: string): string {
    return `SELECT position, ops FROM ${this.log} WHERE name = ${n} AND position > ${after} ${extra} ORDER BY position LIMIT ${limit}`
  }

  /**
   * The entries after `position`, oldest first, at most `limit`. `flush`: then flushes the WAL in
   * the same round trip, so every entry read is durable when this resolves (see early.ts).
   */
  async entriesAfter(client: pg.Client, name: string, position: number, limit: number = PAGE, flush = false): Promise<Entry[]> {
    if (flush) return toEntries((await multi(client, `${this.#entriesSql(client.escapeLiteral(name), position, limit, '')}; ${FLUSH}`))[0])
    // v3: with the head's early mark (an entry of an early commit is read with the mark set).
    const result = await client.query<{ position: string; ops: Buffer; early: boolean }>(
      `SELECT l.position, l.ops, h.early FROM ${this.log} l JOIN ${this.head} h ON h.name = l.name WHERE l.name = $1 AND l.position > $2 ORDER BY l.position LIMIT $3`,
      [name, position, limit],
    )
    this.#refuseEarly(name, result.rows.some((row) => row.early))
    return toEntries(result)
  }

  /**
   * A process on the v3 path stops at a database written with early release (see
   * install.ts's markPath): what it read may not be durable yet. On the early path, nothing.
   */
  #refuseEarly(name: string, early: boolean | undefined): void {
    if (!this.early && early === true) throw earlyRefusal(name)
  }

  /** The head's position, without locking it. */
  async headPosition(client: pg.Client, name: string): Promise<number> {
    const { rows } = await client.query<{ position: string }>(`SELECT position FROM ${this.head} WHERE name = $1`, [name])
    return Number(rows[0]?.position ?? 0)
  }

  /**
   * Where a commit landed, if it did (resolves a commit whose acknowledgement was lost). Early:
   * a commit found is flushed first, as its answer would have been.
   */
  async findCommit(client: pg.Client, commitId: string): Promise<number | null> {
    const { rows } = await client.query<{ position: string }>(`SELECT position FROM ${this.log} WHERE commit_id = $1`, [commitId])
    if (rows[0] !== undefined && this.early) await client.query(FLUSH)
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

/** A text[] literal. */
function textArray(client: pg.Client, items: readonly string[]): string {
  return `ARRAY[${items.map((i) => client.escapeLiteral(i)).join(',')}]::text[]`
}

/** A UUID made by this process, checked before it goes into SQL text. */
function uuid(id: string): string {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new TypeError(`Not a UUID: ${id}`)
  return id
}
