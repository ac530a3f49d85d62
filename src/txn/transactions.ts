import type { LockMode, RWLock } from '../locks/types'
import type { RecordChange, SchemaChange } from '../storage/change'
import type { TableStore } from '../storage/table-store'
import type { Key } from '../values/types'
import { BLOCKED, CONFLICT, OPTIMISTIC_TRIES, OptimisticWrites } from './optimistic'
import { TransactionRunner } from './runner'
import { SnapshotFirst, type Replan, type SharedSync } from './shared-sync'

export type { SharedSync } from './shared-sync'
export type { CommitListener } from './delivery'
export type { Catalog } from './runner'

/**
 * The tail of the one write path and the transaction machinery. Every change goes through
 * `write` or `schema`: applied at once (reads see own writes), logged while a transaction runs,
 * published to listeners on commit, undone in reverse order on rollback. The runner (transactions,
 * commits, delivery) is {@link TransactionRunner}; this class adds the per-call write path.
 */
export class Transactions extends TransactionRunner {
  /** Single-record writes made without a cross-thread grant (a shared database's). */
  readonly #optimistic = new OptimisticWrites()
  /** The key the next `withLock` in a transaction reads by (one record), for `SharedSync.track`. */
  #keyed: Key | undefined = undefined

  /**
   * Runs `fn(a, b)` under the table's lock: for this call alone, or held until the transaction
   * ends. The arguments are passed through so that hot callers (get, insert, update) can hand in
   * a function made once instead of a closure per call.
   */
  withLock<R, A = undefined, B = undefined>(lock: RWLock, mode: LockMode, fn: (a: A, b: B) => R, a?: A, b?: B): R {
    const tx = this.tx
    const shared = this.shared
    if (tx === null) {
      this.depth++
      // A call nested in a checked single-record write (a validator's) is not checked itself.
      const optimistic = this.#optimistic.store
      this.#optimistic.store = null
      try {
        // A single read needs no cross-thread lock: the replica, caught up, is the latest commit.
        if (shared !== null && mode === 'read') return shared.readLocal(lock, () => (shared.catchUp(true), fn(a as A, b as B)))
        const grant = lock.enterSync(mode)
        try {
          shared?.catchUp(true)
          return fn(a as A, b as B)
        } finally {
          lock.exitSync(grant)
        }
      } finally {
        this.#optimistic.store = optimistic
        // Listeners run once the outermost call has let go of its lock (and of nothing else).
        if (--this.depth === 0) this.deliver()
      }
    }
    tx.hold(lock, mode)
    // Consumed here: a call nested in `fn` (a validator's read) is tracked as a table read.
    const keyed = this.#keyed
    this.#keyed = undefined
    shared?.track?.(lock, keyed)
    shared?.catchUp(tx.log.length === 0)
    return fn(a as A, b as B)
  }

  /**
   * Runs `fn`, a single-record write by key that writes through `writeOne`. Outside a transaction
   * in a shared database, it takes no cross-thread grant: its change reaches the log only if, once
   * caught up under the append mutex, its record is still the one `fn` read and no other thread
   * holds the table's lock. If the record changed, `fn` runs again; after a few such conflicts,
   * or at once if another thread holds the lock, it runs under the write lock. A table with a
   * unique index (whose checks span records) always takes the write lock.
   */
  writeRecord<R, A>(lock: RWLock, store: TableStore, fn: (a: A, key: Key) => R, a: A, key: Key): R {
    const shared = this.shared
    if (this.tx === null && shared === null) return this.#writeLocal(lock, fn, a, key)
    if (this.tx === null && shared?.enterChecked !== undefined && !store.hasUnique) {
      for (let attempt = 0; attempt < OPTIMISTIC_TRIES; attempt++) {
        const result = this.#tryOptimistic(shared, lock, store, fn, a, key)
        if (result === BLOCKED) break
        if (result !== CONFLICT) return result as R
      }
    }
    if (this.tx !== null) this.#keyed = key
    return this.withLock(lock, 'write', fn, a, key)
  }

  /**
   * `withLock(lock, 'write', fn, a, key)` of a local database outside a transaction, the most
   * common write, without what only a shared replica or a transaction needs (small enough for
   * the compiler to inline it whole into the caller).
   */
  #writeLocal<R, A>(lock: RWLock, fn: (a: A, key: Key) => R, a: A, key: Key): R {
    this.depth++
    try {
      const grant = lock.enterSync('write')
      try {
        return fn(a, key)
      } finally {
        lock.exitSync(grant)
      }
    } finally {
      if (--this.depth === 0 && this.delivery.pending) this.deliver()
    }
  }

  /** One {@link OptimisticWrites.attempt}, counted as a call in progress (for delivery). */
  #tryOptimistic<R, A, B>(shared: SharedSync, lock: RWLock, store: TableStore, fn: (a: A, b: B) => R, a: A, b: B): R | typeof CONFLICT | typeof BLOCKED {
    this.depth++
    try {
      return this.#optimistic.attempt(shared, lock, store, fn, a, b)
    } finally {
      // As in #writeLocal: most writes leave nothing to deliver (no listener), and the call costs.
      if (--this.depth === 0 && this.delivery.pending) this.deliver()
    }
  }

  /**
   * Runs a read of one record by key that calls no user code (`get`). Outside a transaction, when nothing in this
   * thread holds the lock (and a shared replica already has every commit, so there is nothing to
   * catch up or deliver), nothing can run between taking the lock and giving it back, so the
   * read skips both (on a cache-missing lookup, the bookkeeping costs as much as the read).
   */
  readQuiet<R>(lock: RWLock, fn: (key: Key) => R, key: Key): R {
    if (this.tx === null) {
      const shared = this.shared
      // (Not `quiet?.(lock) === true`: the check and the compare of a materialized boolean cost
      // ~15 instructions, 6% of a get.)
      if (shared === null ? !lock.locked : shared.quiet(lock)) return fn(key)
    } else this.#keyed = key
    return this.withLock(lock, 'read', fn, key)
  }

  /**
   * `write` of a single change (insert or update of one record). Outside a transaction and with
   * no shared log, it is validated, applied and counted without the general path's bookkeeping
   * (nothing to undo: a local commit cannot fail once applied); the change set is built only
   * for listeners.
   */
  writeOne(store: TableStore, change: RecordChange, replan: Replan | null = null): void {
    if (this.tx !== null || this.shared !== null) {
      // Only a shared database's writes run checked (see writeRecord).
      if (this.tx === null && this.#optimistic.store === store) return this.#writeChecked(change, replan)
      return this.write(store, [change])
    }
    store.checkUniqueOne(change)
    store.apply(change)
    this.commits++
    // Live views that this change leaves alone: no commit object, no delivery.
    if (this.delivery.size !== 0 && !this.delivery.ignoredByAll(change)) this.publish({ ops: [change], position: this.commits })
  }

  /** Commits a single-record change planned without a cross-thread grant ({@link OptimisticWrites.append}). */
  #writeChecked(change: RecordChange, replan: Replan | null): void {
    const committed = this.#optimistic.append(this.shared as SharedSync, change, replan)
    if (this.delivery.size !== 0) this.publish({ ops: [committed], position: this.position })
  }

  /**
   * Validates (unique indexes), applies and records a change set planned under the write lock.
   * `sets`: the fields an update of several records sets, if each change is such an update and
   * nothing else (see `TableStore.checkUnique`).
   */
  write(store: TableStore, changes: RecordChange[], sets: readonly unknown[] | null = null): void {
    if (changes.length === 0) return
    store.checkUnique(changes, sets)
    const tx = this.tx
    if (tx === null) {
      const autoKey = store.nextAutoKey
      store.applyAll(changes)
      try {
        this.commit(changes)
      } catch (error) {
        for (let i = changes.length - 1; i >= 0; i--) store.undo(changes[i] as RecordChange)
        store.nextAutoKey = autoKey
        if (!(error instanceof SnapshotFirst)) throw error
        // Taken out: the snapshot of the state before them, then the same changes again (the
        // table's write lock is held throughout: their records are as they were planned from).
        this.snapshotFirst()
        return this.write(store, changes, sets)
      }
      return
    }
    tx.write(store, changes)
  }

  /** Applies and records a catalog change; `undo` reverts it if the transaction rolls back. */
  schema(op: SchemaChange, apply: () => void, undo: () => void): void {
    apply()
    const tx = this.tx
    if (tx === null) {
      try {
        return this.commit([op])
      } catch (error) {
        undo()
        if (!(error instanceof SnapshotFirst)) throw error
        // As in `write`: the snapshot of the state before it, then the change again.
        this.snapshotFirst()
        return this.schema(op, apply, undo)
      }
    }
    tx.schema(op, undo)
  }
}
