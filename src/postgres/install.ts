import type pg from 'pg'
import { InvalidStateError } from '../errors'
import { commitPath, earlyCheck, earlyProcedure } from './early'
import { shortName } from '../values/describe'

/** The (quoted) names of a log's tables and commit routines. */
export interface Names {
  readonly head: string
  readonly log: string
  readonly snapshot: string
  readonly commitFn: string
  readonly procedure: string
}

/** Entries a commit or a query brings back at most. */
export const PAGE = 1000

/**
 * Creates the tables and the database's head row (idempotent; safe to run concurrently), the
 * commit function, and on the early path the procedure; the path this process commits on.
 */
export async function install(client: pg.Client, names: Names, name: string): Promise<'v3' | 'early'> {
  const { head, log, snapshot } = names
  const ddl = [
    `CREATE TABLE IF NOT EXISTS ${head} (name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${log} (name text NOT NULL, position bigint NOT NULL, commit_id uuid NOT NULL UNIQUE, ops bytea NOT NULL, writes text[], PRIMARY KEY (name, position))`,
    `CREATE TABLE IF NOT EXISTS ${snapshot} (name text NOT NULL, position bigint NOT NULL, state bytea NOT NULL, PRIMARY KEY (name, position))`,
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
  await addColumn(client, log, 'writes', 'text[]')
  await addColumn(client, head, 'early', 'boolean NOT NULL DEFAULT false')
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")
  const path = commitPath(Number(rows[0]?.v ?? 0))
  await installFunction(client, names)
  await client.query(`INSERT INTO ${head} (name) VALUES ($1) ON CONFLICT DO NOTHING`, [name])
  await markPath(client, names, name, path)
  return path
}

/**
 * A database once written with early release stays so: a v3 commit (its function refuses,
 * see commitFunction) would let its process apply entries before they are durable. Sets the
 * mark (early) or refuses to go on (v3).
 */
async function markPath(client: pg.Client, names: Names, name: string, path: 'v3' | 'early'): Promise<void> {
  if (path === 'early') {
    const signature = `${names.procedure}(text, bigint, text, text, uuid, bytea, text, bigint, bytea)`
    await create(client, signature, () => earlyProcedure(names, PAGE, earlyCheck()))
    await client.query(`UPDATE ${names.head} SET early = true WHERE name = $1 AND NOT early`, [name])
    return
  }
  const { rows } = await client.query<{ early: boolean }>(`SELECT early FROM ${names.head} WHERE name = $1`, [name])
  if (rows[0]?.early === true) throw earlyRefusal(name)
}

/**
 * A process on the v3 path meets a database written with early release: at opening, or, once
 * running, whenever it reads the log or locks the head (it would apply entries not yet durable).
 */
export function earlyRefusal(name: string): InvalidStateError {
  return new InvalidStateError(`The database \`${shortName(name)}\` is written with early lock release (dictdb_commit_v4 or later, PostgreSQL 17+): this process would commit with dictdb_commit_v3. Unset DICTDB_PG_COMMIT=v3, or use a server of version 17 or later`)
}

/**
 * A table made by an earlier version gets a column: the log its items (its entries have none:
 * NULL, which clashes with every read), the head its early mark. Checked first: ALTER would
 * lock the table against every commit.
 */
async function addColumn(client: pg.Client, table: string, column: string, type: string): Promise<void> {
  const { rows } = await client.query('SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2', [table, column])
  if (rows.length === 0) await client.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type}`)
}

/**
 * Creates the v3 commit function, or replaces one made before the early mark existed (whose
 * processes would commit on an early database: it now refuses them).
 */
async function installFunction(client: pg.Client, names: Names): Promise<void> {
  const signature = `${names.commitFn}(text, bigint, text[], text[], uuid, bytea, text)`
  const { rows } = await client.query<{ src: string | null }>('SELECT prosrc AS src FROM pg_proc WHERE oid = to_regprocedure($1)', [signature])
  const src = rows[0]?.src
  if (src !== undefined && src !== null && src.includes('early lock release')) return
  const verb = src === undefined ? 'CREATE FUNCTION' : 'CREATE OR REPLACE FUNCTION'
  await create(client, signature, () => commitFunction(names).replace('CREATE FUNCTION', verb), src !== undefined)
}

/** Runs `ddl` unless `signature` exists (`replace`: anyway), tolerating a concurrent twin. */
async function create(client: pg.Client, signature: string, ddl: () => string, replace = false): Promise<void> {
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
function commitFunction(names: Names): string {
  const { head, log, commitFn } = names
  return `CREATE FUNCTION ${commitFn}(n text, base bigint, reads text[], writes text[], id uuid, body bytea, channel text)
    RETURNS TABLE (pos bigint, entry bytea) LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE h bigint;
    BEGIN
      UPDATE ${head} hd SET position = hd.position + 1 WHERE hd.name = n AND NOT hd.early RETURNING hd.position - 1 INTO h;
      IF h IS NULL AND EXISTS (SELECT 1 FROM ${head} hd WHERE hd.name = n AND hd.early) THEN
        RAISE EXCEPTION 'The database % is written with early lock release (dictdb_commit_v4): this process commits with dictdb_commit_v3, which would apply entries before they are durable. Upgrade dictdb in this process', n;
      END IF;
      IF h = base OR (h - base <= ${PAGE} AND ${clear(log, 'n', 'base', 'h', 'reads')}) THEN
        INSERT INTO ${log} (name, position, commit_id, ops, writes) VALUES (n, h + 1, id, body, writes);
        PERFORM pg_notify(channel, (h + 1) || ' ' || n);
        pos := h + 1;
        entry := NULL;
        RETURN NEXT;
      ELSE
        UPDATE ${head} hd SET position = h WHERE hd.name = n;
      END IF;
      RETURN QUERY SELECT l.position, l.ops FROM ${log} l WHERE l.name = n AND l.position > base AND l.position <= h ORDER BY l.position LIMIT ${PAGE};
    END $fn$`
}

/**
 * An SQL condition: the log holds every entry in (base, head] (none pruned: pruning takes a
 * prefix) and none of them wrote an item of `reads`. An entry without items (written by an
 * earlier version) clashes.
 */
export function clear(log: string, n: string, base: string, head: string, reads: string): string {
  return `(SELECT count(*) = ${head} - ${base} AND NOT coalesce(bool_or(l.writes IS NULL OR l.writes && ${reads}), false)
    FROM ${log} l WHERE l.name = ${n} AND l.position > ${base} AND l.position <= ${head})`
}
