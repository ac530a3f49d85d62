import type { RWLock } from '../locks/types'
import type { RecordChange } from '../storage/change'
import type { TableStore } from '../storage/table-store'
import { CheckedChange, type Replan, type SharedSync } from './shared-sync'

/** Thrown by a single-record write whose record changed in another thread since it was read. */
export const CONFLICT = Symbol('dictdb: record changed meanwhile')
/** Thrown by a single-record write that found another thread holding its table's lock. */
export const BLOCKED = Symbol('dictdb: table held by another thread')
/** Single-record writes that met this many conflicts in a row take the table's write lock. */
export const OPTIMISTIC_TRIES = 3

/**
 * A shared database's single-record writes outside a transaction, made without a cross-thread
 * grant: the change reaches the log only if, once caught up under the append mutex, its record
 * is still the one the write read and no other thread holds the table's lock. One per thread;
 * {@link Transactions} decides when a write runs this way and counts the call in progress.
 */
export class OptimisticWrites {
  /**
   * The store whose single-record write runs checked right now (null: none). A call nested in
   * that write (a validator's) clears it while it runs, so that it is not checked itself.
   */
  store: TableStore | null = null
  /** That write's table lock. */
  #lock: RWLock | null = null
  /** The commit count the replica stood at when that write was planned (-1: unknown). Not NaN: a small integer keeps the field and the argument unboxed (measured: with NaN the shortcut gained nothing). */
  #plannedAt = -1
  /** The check of this thread's single-record writes (made once). */
  #checked: CheckedChange | null = null

  /**
   * One try at `fn(a, b)`, a single-record write by key, under the in-thread part of `lock` alone;
   * CONFLICT if its record changed meanwhile (try again), BLOCKED if another thread holds the lock.
   */
  attempt<R, A, B>(shared: SharedSync, lock: RWLock, store: TableStore, fn: (a: A, b: B) => R, a: A, b: B): R | typeof CONFLICT | typeof BLOCKED {
    const outer = this.store
    const outerLock = this.#lock
    const outerPlannedAt = this.#plannedAt
    try {
      const grant = (shared.enterChecked as (lock: RWLock) => unknown)(lock)
      this.store = store
      this.#lock = lock
      try {
        if (shared.refresh !== undefined) this.#plannedAt = shared.refresh()
        else {
          shared.catchUp(true)
          this.#plannedAt = -1
        }
        return fn(a, b)
      } finally {
        this.store = outer
        this.#lock = outerLock
        this.#plannedAt = outerPlannedAt
        lock.exitSync(grant)
      }
    } catch (error) {
      if (error === CONFLICT || error === BLOCKED) return error
      throw error
    }
  }

  /**
   * Appends a single-record change planned without a cross-thread grant if its record is still
   * the one it was planned from (and no unique index appeared, and no other thread holds the
   * table's lock), or planned again by `replan` from the record as it is then; the log applies
   * it. Returns the change committed; throws BLOCKED or CONFLICT if it was not.
   */
  append(shared: SharedSync, store: TableStore, change: RecordChange, replan: Replan | null): RecordChange {
    const checked = (this.#checked ??= new CheckedChange(shared.heldElsewhere as NonNullable<SharedSync['heldElsewhere']>))
    checked.set(store, change, this.#lock as RWLock, replan, this.#plannedAt)
    let appended: boolean
    let committed = change
    try {
      appended = (shared.appendIf as NonNullable<SharedSync['appendIf']>)(checked)
      if (checked.replanned) committed = checked.change
    } finally {
      checked.clear()
    }
    if (!appended) throw checked.blocked ? BLOCKED : CONFLICT
    return committed
  }
}
