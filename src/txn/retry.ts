import { DeadlockError } from '../errors'
import { backoffDelay, sleepSync } from './backoff'
import { SnapshotFirst } from './shared-sync'
import { Tx, type TxTables } from './tx'

/** What re-running a transaction needs from the catalog. */
export interface RetryCatalog extends TxTables {
  names(): string[]
  /** Counts a transaction re-run after losing a deadlock on `table` (`db.stats()`). */
  deadlockRetried(table: string | undefined): void
  /**
   * Marks this thread's transaction as one that lost a deadlock (`true`, before each re-run) or
   * ended (`false`): a shared database's deadlock detector then picks other losers first.
   */
  retrying(on: boolean): void
}

/**
 * Runs `attempt` (one try at a top-level transaction, given its write locks to take up front in
 * name order) until it does not lose a deadlock, at most `retries` times more, backing off
 * exponentially with jitter in between; the last `DeadlockError` is rethrown. A re-run takes up
 * front what {@link retryTables} says and outranks first attempts (`catalog.retrying`).
 */
export function withRetries<R>(catalog: RetryCatalog, tables: readonly string[], retries: number, attempt: (tx: Tx, upfront: readonly string[]) => R): R {
  let upfront = [...new Set(tables)].sort()
  let retried = false
  try {
    for (let n = 0; ; n++) {
      const tx = new Tx(catalog)
      try {
        return attempt(tx, upfront)
      } catch (error) {
        // Rolled back and the snapshot it asked for published (`TransactionRunner.commit`): run
        // again at once, not counted (the replica throws it a bounded number of times in a row).
        if (error instanceof SnapshotFirst) {
          n--
          continue
        }
        if (!(error instanceof DeadlockError) || n >= retries) throw error
        catalog.deadlockRetried(error.table)
        upfront = retryTables(catalog, tx, upfront, error.table)
        if (!retried) catalog.retrying(true)
        retried = true
        sleepSync(backoffDelay(n))
      }
    }
  } finally {
    if (retried) catalog.retrying(false)
  }
}

/**
 * The tables a transaction re-run after losing a deadlock write-locks before its body runs, in
 * name order: those it already locked up front (`before`), every table its lost attempt locked,
 * and the one that attempt was waiting for (`lost`). Re-runs that take their locks in this one
 * order, and need no other, cannot deadlock with each other; against first attempts, which lock
 * on first touch, they win (see `victimOf` in ../locks/wait-graph.ts). So a re-run loses again
 * only if its body touches a table its lost attempts did not reach, and only to an older re-run.
 */
export function retryTables(catalog: RetryCatalog, tx: Tx, before: readonly string[], lost: string | undefined): string[] {
  const names = new Set(before)
  for (const name of catalog.names()) if (tx.locks.has(catalog.lock(name))) names.add(name)
  if (lost !== undefined && catalog.has(lost)) names.add(lost)
  return [...names].sort()
}
