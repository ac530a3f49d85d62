import type { RWLock } from '../locks/types'
import type { Tx } from './tx'

/** What choosing a re-run's locks needs from the catalog. */
export interface TableLocks {
  names(): string[]
  has(table: string): boolean
  lock(table: string): RWLock
}

/**
 * The tables a transaction re-run after losing a deadlock write-locks before its body runs, in
 * name order: those it already locked up front (`before`), every table its lost attempt locked,
 * and the one that attempt was waiting for (`lost`). Re-runs that take their locks in this one
 * order, and need no other, cannot deadlock with each other; against first attempts, which lock
 * on first touch, they win (see `victimOf` in ../locks/wait-graph.ts). So a re-run loses again
 * only if its body touches a table its lost attempts did not reach, and only to an older re-run.
 */
export function retryTables(catalog: TableLocks, tx: Tx, before: readonly string[], lost: string | undefined): string[] {
  const names = new Set(before)
  for (const name of catalog.names()) if (tx.locks.has(catalog.lock(name))) names.add(name)
  if (lost !== undefined && catalog.has(lost)) names.add(lost)
  return [...names].sort()
}
