import type pg from 'pg'
import { InvalidStateError } from '../errors'
import { quoteIdent } from './connection'
import { FLUSH, commitPath, earlyProcedure } from './early'

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

/** Entries read per query. */
export const PAGE = 1000

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
  readonly #procedure: string
  readonly #earlyCall: { name: string; text: string }
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
    this.#procedure = quoteIdent(`${prefix}commit_v4`)
    this.#earlyCall = { name: `${prefix}commit_v4`, text: `CALL ${this.#procedure}($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL)` }
  }

  /** Whether a commit must flush before what it read counts as durable (the early path). */
  get early(): boolean {
    return this.path === 'early'
  }

  /** Creates the tables and the database's head row (idempotent; safe to run concurrently). */
  async install(client: pg.Client, name: string): Promise<void> {
    const ddl = [
      `CREATE TABLE IF NOT EXISTS ${this.head} (name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0)`,
      `CREATE TABLE IF NOT EXISTS ${this.log} (name text NOT NULL, position bigint NOT NULL, commit_id uuid NOT NULL UNIQUE, ops bytea NOT NULL, writes text[], PRIMARY KEY (name, position))`,
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
    await this.#addColumn(client, this.log, 'writes', 'text[]')
    await this.#addColumn(client, this.head, 'early', 'boolean NOT NULL DEFAULT false')
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")
    this.path = commitPath(Number(rows[0]?.v ?? 0))
    await this.#installFunction(client)
    await client.query(`INSERT INTO ${this.head} (name) VALUES ($1) ON CONFLICT DO NOTHING`, [name])
    await this.#markPath(client, name)
  }

  /**
   * A database once written with early release stays so: a v3 commit (its function refuses,
   * see commitFunction) would let its process apply entries before they are durable. Sets the
   * mark (early) or refuses to go on (v3).
   */
  async #markPath(client: pg.Client, name: string): Promise<void> {
    if (this.early) {
      await this.#create(client, `${this.#procedure}(text, bigint, text[], text[], uuid, bytea, text, bigint, bigint[], bytea[])`, () => earlyProcedure({ head: this.head, log: this.log, procedure: this.#procedure }, PAGE, this.#clear('n', 'base', 'h', 'reads')))
      await client.query(`UPDATE ${this.head} SET early = true WHERE name = $1 AND NOT early`, [name])
      return
    }
    const { rows } = await client.query<{ early: boolean }>(`SELECT early FROM ${this.head} WHERE name = $1`, [name])
    if (rows[0]?.early === true) {
      throw new InvalidStateError(`The database \`${name}\` is written with early lock release (dictdb_commit_v4, PostgreSQL 17+): this process would commit with dictdb_commit_v3. Unset DICTDB_PG_COMMIT=v3, or use a server of version 17 or later`)
    }
  }

  /**
   * A table made by an earlier version gets a column: the log its items (its entries have none:
   * NULL, which clashes with every read), the head its early mark. Checked first: ALTER would
   * lock the table against every commit.
   */
  async #addColumn(client: pg.Client, table: string, column: string, type: string): Promise<void> {
    const { rows } = await client.query('SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2', [table, column])
    if (rows.length === 0) await client.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type}`)
  }

  /**
   * Creates the v3 commit function, or replaces one made before the early mark existed (whose
   * processes would commit on an early database: it now refuses them).
   */
  async #installFunction(client: pg.Client): Promise<void> {
    const signature = `${this.commitFn}(text, bigint, text[], text[], uuid, bytea, text)`
    const { rows } = await client.query<{ src: string | null }>('SELECT prosrc AS src FROM pg_proc WHERE oid = to_regprocedure($1)', [signature])
    const src = rows[0]?.src
    if (src !== undefined && src !== null && src.includes('early lock release')) return
    await this.#create(client, signature, () => this.#commitFunction().replace('CREATE FUNCTION', src === undefined ? 'CREATE FUNCTION' : 'CREATE OR REPLACE FUNCTION'), src !== undefined)
  }

  /** Runs `ddl` unless `signature` exists (`replace`: anyway), tolerating a concurrent twin. */
  async #create(client: pg.Client, signature: string, ddl: () => string, replace = false): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT to_regprocedure($1) IS NOT NULL AS ok', [signature])
      if (rows[0]?.ok === true && !replace) return
      try {
        return void (await client.query(ddl()))
      } catch (error) {
        // Another process created it at the same moment (a unique index of the catalog, or its row).
        const code = (error as { code?: string }).code
        if (!['23505', '42723', 'XX000'].includes(code ?? '') || attempt >= 5) throw error
      }
    }
  }

  /**
   * The validated commit (see commitIf). A VOLATILE plpgsql function: each statement in it takes
   * a new snapshot, so the check after the head row's lock sees every commit before this one.
   * The head is locked and moved by one statement (v2 locked it, then moved it: one statement
   * more inside the lock, which every commit of the database waits for); a refused commit puts
   * it back. Same arguments, answer and log rows as v2: processes of both can run together.
   */
  #commitFunction(): string {
    return `CREATE FUNCTION ${this.commitFn}(n text, base bigint, reads text[], writes text[], id uuid, body bytea, channel text)
      RETURNS TABLE (pos bigint, entry bytea) LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE h bigint;
      BEGIN
        UPDATE ${this.head} hd SET position = hd.position + 1 WHERE hd.name = n AND NOT hd.early RETURNING hd.position - 1 INTO h;
        IF h IS NULL AND EXISTS (SELECT 1 FROM ${this.head} hd WHERE hd.name = n AND hd.early) THEN
          RAISE EXCEPTION 'The database % is written with early lock release (dictdb_commit_v4): this process commits with dictdb_commit_v3, which would apply entries before they are durable. Upgrade dictdb in this process', n;
        END IF;
        IF h = base OR (h - base <= ${PAGE} AND ${this.#clear('n', 'base', 'h', 'reads')}) THEN
          INSERT INTO ${this.log} (name, position, commit_id, ops, writes) VALUES (n, h + 1, id, body, writes);
          PERFORM pg_notify(channel, (h + 1) || ' ' || n);
          pos := h + 1;
          entry := NULL;
          RETURN NEXT;
        ELSE
          UPDATE ${this.head} hd SET position = h WHERE hd.name = n;
        END IF;
        RETURN QUERY SELECT l.position, l.ops FROM ${this.log} l WHERE l.name = n AND l.position > base AND l.position <= h ORDER BY l.position LIMIT ${PAGE};
      END $fn$`
  }

  /**
   * An SQL condition: the log holds every entry in (base, head] (none pruned: pruning takes a
   * prefix) and none of them wrote an item of `reads`. An entry without items (written by an
   * earlier version) clashes.
   */
  #clear(n: string, base: string, head: string, reads: string): string {
    return `(SELECT count(*) = ${head} - ${base} AND NOT coalesce(bool_or(l.writes IS NULL OR l.writes && ${reads}), false)
      FROM ${this.log} l WHERE l.name = ${n} AND l.position > ${base} AND l.position <= ${head})`
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
   * The validated commit, one round trip (the commit function): waits for the head row's lock in
   * the server, then moves the head, appends the entry and records the items it writes — only if
   * no commit after `base` wrote an item in `reads` (see Footprint). The lock is held for the
   * server's work only, never across round trips. Brings back the entries after `base` before
   * this commit (other processes' commits, or on a conflict what the batch must run on again).
   */
  async commitIf(client: pg.Client, name: string, base: number, check: Check, commitId: string, ops: Uint8Array, channel: string): Promise<{ position: number | null; entries: Entry[] }> {
    const values = [name, base, check.reads, check.writes, commitId, Buffer.from(ops.buffer, ops.byteOffset, ops.byteLength), channel]
    if (this.early) {
      type Row = { pos: string | null; positions: string[] | null; entries: Buffer[] | null }
      const row = (await client.query<Row>({ ...this.#earlyCall, values })).rows[0]
      const entries = (row?.positions ?? []).map((position, i) => ({ position: Number(position), ops: (row?.entries as Buffer[])[i] as Buffer }))
      return { position: row?.pos == null ? null : Number(row.pos), entries }
    }
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
    const clear = this.#clear(n, String(base), 'h.position', textArray(client, reads))
    const results = await multi(client, `SELECT h.position = ${base} OR (h.position - ${base} <= ${PAGE} AND ${clear}) AS ok FROM ${this.head} h WHERE h.name = ${n}; ${this.#entriesSql(n, base, PAGE, '')}`)
    return { ok: results[0]?.rows[0]?.ok === true, entries: toEntries(results[1]) }
  }

  /**
   * The locked path's first round trip: opens a transaction, locks the head row (waiting in the
   * server's queue behind the holder) and reads the entries after `after` once it has it.
   */
  async lockAndRead(client: pg.Client, name: string, after: number): Promise<{ head: number; entries: Entry[] }> {
    const n = client.escapeLiteral(name)
    // Early: what the entries' commits wrote is flushed before they are applied (see early.ts).
    const results = await multi(client, `BEGIN; SELECT position FROM ${this.head} WHERE name = ${n} FOR UPDATE; ${this.#entriesSql(n, after, PAGE, '')}${this.early ? `; ${FLUSH}` : ''}`)
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
