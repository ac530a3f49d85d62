import type { LockStats } from '../locks/stats'
import type { RWLock } from '../locks/types'
import { MAX_THREADS } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'

export type { LockStats } from '../locks/stats'

/** The shared change log of a worker-shared database, as `db.stats()` reports it. */
export interface SharedLogStats {
  /** Bytes of the ring holding commits some replica may still need to read. */
  readonly logBytesUsed: number
  /** Bytes of the ring free for new commits before the oldest are reclaimed. */
  readonly logBytesFree: number
  /** How far (in log bytes) the replica furthest behind trails the newest commit. */
  readonly slowestReplicaLagBytes: number
  /** Snapshots written so far (each time the ring dropped commits a replica had not read). */
  readonly snapshotsTaken: number
  /** Threads attached to the database now. */
  readonly replicas: number
}

/** What `db.stats()` returns. */
export interface DatabaseStats {
  /** Per table: lock contention, summed over every thread for a shared database. */
  readonly tables: Record<string, LockStats>
  /** For a worker-shared database: its change log; absent otherwise. */
  readonly shared?: SharedLogStats
}

/** Builds `db.stats()` from the tables' locks and, when shared, the control block. */
export function databaseStats(locks: ReadonlyMap<string, RWLock>, memory: SharedMemory | null): DatabaseStats {
  const tables: Record<string, LockStats> = {}
  for (const [name, lock] of locks) tables[name] = lock.counters.read()
  return memory === null ? { tables } : { tables, shared: sharedLogStats(memory) }
}

function sharedLogStats(mem: SharedMemory): SharedLogStats {
  const tail = mem.tail
  const used = tail - mem.head
  let lag = 0
  let replicas = 0
  for (let t = 0; t < MAX_THREADS; t++) {
    if (!mem.isAttached(t)) continue
    replicas++
    lag = Math.max(lag, tail - mem.applied(t))
  }
  return { logBytesUsed: used, logBytesFree: mem.capacity - used, slowestReplicaLagBytes: lag, snapshotsTaken: mem.snapshotsTaken, replicas }
}
