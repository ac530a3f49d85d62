/**
 * Early lock release (the commit path `early`, PostgreSQL 17 or later).
 *
 * Every validated commit of a database takes its head row's lock. With `dictdb_commit_v3` the
 * lock is held until the transaction has committed, which is after its WAL fsync, so the
 * commits of one database follow one another at one lock-hold + fsync + hand-off each. The
 * procedure `dictdb_commit_v5` (v4 before it) commits the ordering transaction (lock and move the
 * head, validate, append, notify) with `synchronous_commit = off` (`ASYNC_COMMIT`), so the lock
 * is released as soon as its commit record is in the WAL buffers; then, before it returns,
 * it flushes the WAL past that record (`FLUSH`). Concurrent flushes share one fsync (PostgreSQL's
 * group flush), so several processes' commits no longer queue for one fsync each.
 *
 * The rule that keeps it safe: **nothing is applied, acknowledged or resolved before it is
 * durable**. WAL is written in order, so a flush that starts after a commit record was written
 * makes that commit durable; and a commit that a statement can see has written its commit
 * record. Hence:
 * - a commit's own entry and the entries its answer brings back were all visible before the
 *   procedure's flush: durable when the answer arrives;
 * - a catch-up by query (after a notification, a reconnect, `sync()`) reads the entries, then
 *   flushes in the same round trip (`flushing read`), unless it wants nothing past a position
 *   already known durable;
 * - the locked path flushes after reading under the head lock, before applying;
 * - a commit found by its id after a lost connection is flushed before it counts.
 * A notification may arrive before its commit is durable (it is sent by the ordering
 * transaction: a `NOTIFY` in the flushing one would take PostgreSQL's notify lock through the
 * fsync, which serializes every notifying commit of the server on one fsync each): it only
 * says "catch up", and the catch-up flushes first.
 */
import { InvalidStateError } from '../errors'

/**
 * Flushes the WAL up to here (at least every commit record written so far), inside or outside
 * a transaction, without a transaction id. `pg_logical_emit_message`'s `flush` argument is new in
 * PostgreSQL 17; the record is a no-op for anything but logical decoding.
 */
export const FLUSH = "SELECT pg_logical_emit_message(false, 'dictdb', '', true)"

/** The oldest server that has `FLUSH` (`server_version_num`). */
export const EARLY_MIN_VERSION = 170000

/** Which commit path a process takes: `DICTDB_PG_COMMIT` (`v3` or `early`), else the default. */
export function commitPath(serverVersion: number): 'v3' | 'early' {
  const chosen = process.env.DICTDB_PG_COMMIT
  if (chosen === 'v3') return 'v3'
  if (chosen === 'early' && serverVersion < EARLY_MIN_VERSION) {
    throw new InvalidStateError(`DICTDB_PG_COMMIT=early needs PostgreSQL 17 or later (pg_logical_emit_message with flush); this server is ${serverVersion}`)
  }
  return serverVersion >= EARLY_MIN_VERSION ? 'early' : 'v3'
}

/** Table and function names (quoted) the procedure is made of. */
export interface EarlyNames {
  head: string
  log: string
  procedure: string
}

/**
 * Set on each connection of a process on the early path, after the installation: its
 * transactions commit without waiting for the fsync, and whatever must be durable is flushed
 * explicitly (`FLUSH`, see above). A session setting rather than one per commit: one statement
 * less in the procedure. Were it lost (a pooler resetting the session), commits would only wait
 * for their fsync again.
 */
export const ASYNC_COMMIT = 'SET synchronous_commit TO off'

/**
 * The validated commit with early lock release: the same check, head move, log row and
 * notification as `dictdb_commit_v3`, then `COMMIT` without waiting for the fsync (the
 * session's `ASYNC_COMMIT`), then `FLUSH`. Returns where the commit landed (`pos`, null if refused) and the entries after `base`
 * before it, framed in one `bytea` (see {@link unframeEntries}). `reads` and `writes` are items
 * joined by newlines (JSON text, which has none). After the head's `UPDATE` (which waits for
 * its lock, so the next statement's snapshot sees every commit before this one), one statement
 * reads the entries, checks them (`check`, over `e`), appends and notifies: each statement of
 * a procedure costs its own executor start-up, under the head lock.
 */
export function earlyProcedure(names: EarlyNames, page: number, check: string): string {
  const { head, log, procedure } = names
  return `CREATE PROCEDURE ${procedure}(n text, base bigint, reads text, writes text, id uuid, body bytea, channel text,
      INOUT pos bigint DEFAULT NULL, INOUT answer bytea DEFAULT NULL)
    LANGUAGE plpgsql AS $fn$
    DECLARE h bigint;
    BEGIN
      UPDATE ${head} hd SET position = hd.position + 1 WHERE hd.name = n RETURNING hd.position - 1 INTO h;
      WITH e AS (SELECT l.position, l.ops, l.writes FROM ${log} l WHERE l.name = n AND l.position > base AND l.position <= h ORDER BY l.position LIMIT ${page}),
        c AS (SELECT h = base OR (h - base <= ${page} AND ${check}) AS ok,
          string_agg(int8send(e.position) || int4send(length(e.ops)) || e.ops, ''::bytea ORDER BY e.position) AS entries FROM e),
        ins AS (INSERT INTO ${log} (name, position, commit_id, ops, writes)
          SELECT n, h + 1, id, body, string_to_array(writes, E'\\n') FROM c WHERE c.ok
          RETURNING position, pg_notify(channel, position || ' ' || n) AS notified)
      SELECT i.position, c.entries INTO pos, answer FROM c LEFT JOIN ins i ON true;
      IF pos IS NULL THEN
        UPDATE ${head} hd SET position = h WHERE hd.name = n;
      END IF;
      COMMIT;
      ${FLUSH.replace('SELECT', 'PERFORM')};
    END $fn$`
}

/** The check of {@link earlyProcedure} over its entries `e`: all there (none pruned), none wrote an item read. */
export function earlyCheck(): string {
  return "count(*) = h - base AND NOT coalesce(bool_or(e.writes IS NULL OR e.writes && string_to_array(reads, E'\\n')), false)"
}

/** Items as the procedure takes them (see {@link earlyProcedure}). */
export function joinItems(items: readonly string[]): string {
  return items.join('\n')
}

/** The entries of a procedure's answer: each an 8-byte position, a 4-byte length and the entry's bytes. */
export function unframeEntries(answer: string | null): { position: number; ops: Buffer }[] {
  if (answer === null) return []
  const bytes = Buffer.from(answer.slice(2), 'hex') // bytea as text: \x and hex
  const entries: { position: number; ops: Buffer }[] = []
  for (let at = 0; at < bytes.length; ) {
    const position = bytes.readUInt32BE(at) * 2 ** 32 + bytes.readUInt32BE(at + 4)
    const length = bytes.readUInt32BE(at + 8)
    entries.push({ position, ops: bytes.subarray(at + 12, at + 12 + length) })
    at += 12 + length
  }
  return entries
}
