import type { Database } from '../database'
import { TableNotFoundError } from '../errors'
import type { DatabaseState } from '../storage/change'

/**
 * A consistent snapshot of `db`, waiting for locks without blocking the event loop: the read
 * lock of every table is taken with `await table.lock.read()`, in name order (the order every
 * multi-table locker uses, so this cannot deadlock), then `exportState()` runs inside them —
 * re-entrant, and instant since records are frozen and only referenced. `atSnapshot` runs right
 * after it, in the same synchronous turn (a backup swaps its change journal there).
 *
 * A plain `exportState()` would fail at once if an async writer of this thread held a lock
 * (a synchronous call never waits for its own thread); this waits for it instead.
 */
export async function snapshotAsync(db: Database, atSnapshot?: () => void): Promise<DatabaseState> {
  for (;;) {
    const names = [...db.listTables()].sort()
    try {
      const state = await underReadLocks(db, names, 0, () => {
        if (!sameTables(db.listTables(), names)) return null
        // Same synchronous turn as the snapshot: no commit can fall between the two.
        return db.exportState(atSnapshot)
      })
      if (state !== null) return state
    } catch (error) {
      // A table was dropped between listing and locking: take the new list.
      if (!(error instanceof TableNotFoundError)) throw error
    }
  }
}

function underReadLocks<R>(db: Database, names: readonly string[], i: number, fn: () => R): Promise<R> | R {
  if (i === names.length) return fn()
  return db.getTable(names[i] as string).lock.read(() => underReadLocks(db, names, i + 1, fn)) as Promise<R>
}

function sameTables(now: readonly string[], locked: readonly string[]): boolean {
  return now.length === locked.length && now.every((name) => locked.includes(name))
}
