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
   * The check of this thread's single-record writes, which also holds the write being tried: its
   * store (null: none), lock and planning count. A call nested in that write (a validator's)
   * clears the store while it runs, so that it is not checked itself.
   */
  readonly #checked = new CheckedChange()

  /** The store whose single-record write runs checked right now (null: none). */
  get store(): TableStore | null {
    return this.#checked.store
  }
  set store(store: TableStore | null) {
    this.#checked.store = store
  }

  /**
   * One try at `fn(a, b)`, a single-record write by key, under the in-thread part of `lock` alone;
   * CONFLICT if its record changed meanwhile (try again), BLOCKED if another thread holds the lock.
   */
  attempt<R, A, B>(shared: SharedSync, lock: RWLock, store: TableStore, fn: (a: A, b: B) => R, a: A, b: B): R | typeof CONFLICT | typeof BLOCKED {
    const checked = this.#checked
    const outer = checked.store
    const outerLock = checked.lock
    const outerPlannedAt = checked.plannedAt
    try {
      const grant = (shared.enterChecked as (lock: RWLock) => unknown)(lock)
      checked.store = store
      checked.lock = lock
      try {
        if (shared.refresh !== undefined) checked.plannedAt = shared.refresh()
        else {
          shared.catchUp(true)
          checked.plannedAt = -1
        }
        return fn(a, b)
      } finally {
        checked.store = outer
        checked.lock = outerLock
        checked.plannedAt = outerPlannedAt
        lock.exitSync(grant)
      }
    } catch (error) {
      if (error === CONFLICT || error === BLOCKED) return error
      throw error
    }
  }

  /**
   * Appends a single-record change of the write being tried (its store's record) planned without
   * a cross-thread grant if its record is still the one it was planned from (and no unique index
   * appeared, and no other thread holds the table's lock), or planned again by `replan` from the
   * record as it is then; the log applies it. Returns the change committed; throws BLOCKED or
   * CONFLICT if it was not.
   */
  append(shared: SharedSync, change: RecordChange, replan: Replan | null): RecordChange {
    const checked = this.#checked
    checked.heldElsewhere ??= shared.heldElsewhere as NonNullable<SharedSync['heldElsewhere']>
    checked.set(change, replan)
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
