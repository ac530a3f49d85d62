import { DeadlockError } from '../errors'
import type { RWLock } from '../locks/types'
import { encodeOpsInPlace, encodeOpsInto, encodePatchInPlace, encodePatchInto, type EncodedOps } from '../shared/codec'
import type { BinaryWriter } from '../values/binary'
import type { CheckedWrite } from '../shared/replica'
import { sameKey } from '../shared/defer'
import type { Op, RecordChange } from '../storage/change'
import type { TableStore } from '../storage/table-store'
import type { Key, Rec } from '../values/types'

/**
 * How a shared database plugs into the write path: catch the replica up before touching a
 * table, append each commit to the shared log while its locks are still held.
 */
export interface SharedSync {
  /** Applies what other threads committed; may rebuild the replica only if `canRebuild`. */
  catchUp(canRebuild: boolean): void
  /**
   * Catches up (rebuilding if need be) unless a cheap look says nothing is new: for planning a
   * change that is checked again when it reaches the log. Returns the commit count the replica
   * then stands at (see `CheckedWrite.plannedAt`). Absent: `catchUp(true)`.
   */
  readonly refresh?: () => number
  /**
   * Appends a commit's ops (applied in this replica already) to the shared log. May throw
   * {@link SnapshotFirst}, with nothing appended: the caller takes the ops out of the replica,
   * calls {@link snapshotAtTail}, and commits them again (a transaction runs again).
   */
  append(ops: readonly Op[]): void
  /**
   * Publishes this replica's state, which holds no uncommitted change, as the snapshot at the log's
   * tail, if the one that {@link SnapshotFirst} asked for is still owed (the append mutex held,
   * caught up). A failure is a `DictDBError`, with nothing published.
   */
  readonly snapshotAtTail?: () => void
  /** Runs a lock-free read: only the in-thread part of the lock (own-thread async holders). */
  readLocal<R>(lock: RWLock, fn: () => R): R
  /**
   * True when a read of one record of `lock`'s table may run bare: the replica already has every
   * commit and no holder in this thread holds the lock. Always false for a log that must see
   * every read (a connected database). Not optional: a `get` calls it, and the check of an
   * optional member costs it ~2% more.
   */
  readonly quiet: (lock: RWLock) => boolean
  /**
   * Takes the in-thread part of `lock` for one single-record write outside a transaction, and no
   * cross-thread grant: the write is checked when it reaches the log (give it back with
   * `exitSync`). Absent: single-record writes take the write lock.
   */
  readonly enterChecked?: (lock: RWLock) => unknown
  /** Whether another thread holds a grant of `lock` (asked under the append mutex). */
  readonly heldElsewhere?: (lock: RWLock) => boolean
  /**
   * Appends a commit of `write`'s ops (`write.encode()`) only if `write.holds()` once the replica has caught up under the append
   * mutex, then runs `write.apply()` (before anything else reads the replica); false if the check failed.
   */
  readonly appendIf?: (write: CheckedWrite) => boolean
  /**
   * True when a commit is durable only later (a connected database): the log then tells the
   * listeners itself, once it is, so they never see a commit that is then undone.
   */
  readonly defersPublish?: boolean
  /** Where this replica stands in the log (see `Commit.position`); absent: positions are not kept. */
  readonly position?: () => number
  /**
   * Told what a transaction reads, as it reads it: the table's lock, with the key when the call
   * reads one record by key (`get`, `update` by key), else a read of the whole table. A log that
   * validates a commit against what other processes wrote meanwhile (a connected database)
   * commits it only if none of that changed.
   */
  readonly track?: (lock: RWLock, key: Key | undefined) => void
}

/**
 * Thrown by `SharedSync.append` before it moved the ring's head, with nothing appended: this
 * append frees ring space past the last snapshot and overtakes every other thread's replica, so
 * the snapshot must be published first, of the state before the commit's ops (which this replica
 * holds applied already): else a writer terminated between moving the head and publishing it
 * would leave the commits since the last snapshot in no live thread. The committer takes its ops
 * out, calls `snapshotAtTail`, and commits again. A `DeadlockError`: a transaction is run again
 * (without counting it as a retry), like one that a reclaim overtook.
 */
export class SnapshotFirst extends DeadlockError {
  constructor() {
    super('This commit frees shared log space past the last snapshot: it is made again once a snapshot of the state before it is published')
  }
}

/**
 * Plans a single-record change again from its record as it is now (`undefined`: gone), under the
 * shared log's append mutex, when another thread changed the record since it was planned: the
 * change is then appended at once instead of failing its check and being planned again outside
 * (which, on a record many threads write, fails again and again). It runs under the mutex, so
 * it must run no user code (no validator, no clock or format function of the caller's) and be
 * quick; null: it cannot (the caller then plans again outside, as without it). It may throw:
 * nothing is written then.
 */
export type Replan = (current: Rec | undefined) => RecordChange | null

/**
 * A single-record change planned without a cross-thread grant, as the shared log checks and
 * applies it. One object per thread ({@link OptimisticWrites}' own): the write's table, lock and
 * planning count are set as its try starts (`lock`, `store`, `plannedAt`), its change just before
 * the append (`set`); the log calls it back only while `appendIf` runs, and nothing in between can
 * plan another (no user code runs there).
 */
export class CheckedChange implements CheckedWrite {
  /** The store of the write being tried (set by {@link OptimisticWrites.attempt}). */
  store: TableStore | null = null
  /** Its table's lock. */
  lock: RWLock | null = null
  /** See `CheckedWrite.plannedAt` (-1: unknown). */
  plannedAt = -1
  #change: RecordChange | null = null
  #replan: Replan | null = null
  /** How to ask whether another thread holds a lock (the shared database's; set before the first append). */
  heldElsewhere: ((lock: RWLock) => boolean) | null = null
  /** The check failed because another thread holds the table's lock (not because the record changed). */
  blocked = false

  /**
   * Makes this the check of `change` to {@link store}'s record; `replan` (see {@link Replan})
   * plans it again from a record that changed meanwhile.
   */
  set(change: RecordChange, replan: Replan | null): void {
    this.#change = change
    this.#replan = replan
    this.blocked = false
    this.replanned = false
  }

  /** Lets go of the last change (its records are not kept alive by this thread). */
  clear(): void {
    this.#change = null
  }

  /** The change as it stands (planned again by {@link holds}, if it was). */
  get change(): RecordChange {
    return this.#change as RecordChange
  }

  /** {@link holds} planned the change again: {@link encode} is to be called anew. */
  replanned = false

  /**
   * No other thread holds the table's lock (a reader or writer there counts on the table staying
   * as it is), no unique index appeared, and its record is still the one it was planned from, or
   * it could be planned again from the record as it is now (under the append mutex, caught up:
   * the caller then encodes it again: {@link encode}). `unchanged`: nothing was appended since it
   * was planned (see `CheckedWrite.holds`), so its record and the table's indexes are as planned
   * and only the lock is looked at (a grant changes no count: it passes the mutex appending nothing).
   */
  holds(unchanged: boolean): boolean {
    const store = this.store as TableStore
    if ((this.heldElsewhere as (lock: RWLock) => boolean)(this.lock as RWLock)) {
      this.blocked = true
      return false
    }
    if (unchanged) return true
    const change = this.#change as RecordChange
    if (store.hasUnique) return false
    const current = store.get(change.key)
    if (current === change.before) return true
    const next = this.#replan === null ? null : this.#replan(current)
    if (next === null) return false
    this.#change = next
    this.replanned = true
    return true
  }

  /**
   * The change as one log entry. An update the planner vouched for (only fields the record has,
   * to values that are not objects, in a table whose records share one flat shape) goes through
   * the patch encoder given the shape's fields; anything else through the generic encoder.
   */
  encode(): EncodedOps {
    const change = this.#change as RecordChange
    const fields = this.#vouchedFields(change)
    return fields === undefined ? encodeOpsInPlace([change]) : encodePatchInPlace(change as RecordChange & { before: Rec; after: Rec }, fields)
  }

  /** Writes what {@link encode} encodes into `w` (a writer over the shared log's ring). */
  encodeInto(w: BinaryWriter): void {
    const change = this.#change as RecordChange
    const fields = this.#vouchedFields(change)
    if (fields === undefined) encodeOpsInto(w, [change])
    else encodePatchInto(w, change as RecordChange & { before: Rec; after: Rec }, fields, (this.store as TableStore).vouchedOne(change.after as Rec, change.before as Rec))
  }

  #vouchedFields({ before, after }: RecordChange): readonly string[] | undefined {
    return before === undefined || after === undefined ? undefined : (this.store as TableStore).vouchedFields(after, before)
  }

  apply(): void {
    ;(this.store as TableStore).apply(this.#change as RecordChange)
  }

  touches(table: string, key: Key): boolean {
    const change = this.#change as RecordChange
    return change.table === table && sameKey(change.key, key)
  }
}
