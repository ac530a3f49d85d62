import { InvalidStateError } from '../errors'
import type { LockMode, Release, RWLock } from '../locks/types'
import type { Op, RecordChange, SchemaChange } from '../storage/change'
import type { TableStore } from '../storage/table-store'

/** What a transaction needs from the catalog: a table's store (to undo) and its lock. */
export interface TxTables {
  has(table: string): boolean
  lock(table: string): RWLock
  store(table: string): TableStore
}

/**
 * A running top-level transaction: its log (for undo and publish), the locks it holds until it
 * ends, and the auto-key counters to give back if it rolls back.
 */
export class Tx {
  readonly log: Op[] = []
  readonly schemaUndo = new Map<SchemaChange, () => void>()
  readonly locks = new Map<RWLock, { mode: LockMode; release: Release }>()
  /**
   * Per savepoint level, each touched table's auto-key counter as it was when the level began:
   * a rollback gives handed-out keys back, so the counter only reflects committed inserts — the
   * value every replica and backup derives from the committed change stream.
   */
  readonly autoKeys: Map<TableStore, number>[] = []
  /** The top level's counters, kept until the commit has gone through. */
  baseKeys: Map<TableStore, number> | null = null
  readonly #tables: TxTables

  constructor(tables: TxTables) {
    this.#tables = tables
  }

  /**
   * Write-locks the tables `upfront` (in name order) that still exist: a table of a lost attempt
   * may have been dropped since (by another thread).
   */
  holdUpfront(upfront: readonly string[]): void {
    for (const name of upfront) if (this.#tables.has(name)) this.hold(this.#tables.lock(name), 'write')
  }

  /** Runs `fn` as a savepoint, once it holds the write locks of `tables` (in name order). */
  savepoint<R>(fn: () => R, tables: readonly string[]): R {
    for (const name of [...new Set(tables)].sort()) this.hold(this.#tables.lock(name), 'write')
    return this.level(fn, this.log.length)
  }

  /** Takes `lock` in `mode` until the transaction ends (a held read lock is upgraded). */
  hold(lock: RWLock, mode: LockMode): void {
    const held = this.locks.get(lock)
    if (held !== undefined && (held.mode === 'write' || mode === 'read')) return
    const release = lock.acquireSync(mode)
    if (held !== undefined) {
      // Upgraded: keep both grants and release them together at the end.
      const first = held.release
      this.locks.set(lock, { mode, release: () => (release(), first()) })
    } else {
      this.locks.set(lock, { mode, release })
    }
  }

  /**
   * Applies `changes` to `store` and logs them. The level's first write to `store` keeps the
   * store's auto-key counter as it was, to give back if the level rolls back.
   */
  write(store: TableStore, changes: readonly RecordChange[]): void {
    const frame = this.autoKeys[this.autoKeys.length - 1] as Map<TableStore, number>
    if (!frame.has(store)) frame.set(store, store.nextAutoKey)
    store.applyAll(changes)
    for (const change of changes) this.log.push(change)
  }

  /** Logs a catalog change already applied; `undo` reverts it if the transaction rolls back. */
  schema(op: SchemaChange, undo: () => void): void {
    this.log.push(op)
    this.schemaUndo.set(op, undo)
  }

  /** Gives back every lock held. */
  release(): void {
    for (const { release } of this.locks.values()) release()
  }

  /** Runs one level (the body or a savepoint); on a throw (or a promise), rolls back to `mark` and rethrows. */
  level<R>(fn: () => R, mark: number): R {
    this.autoKeys.push(new Map())
    let result: R
    try {
      result = fn()
    } catch (error) {
      this.#rollbackLevel(mark)
      throw error
    }
    if (isThenable(result)) {
      this.#rollbackLevel(mark)
      throw asyncBody()
    }
    const level = this.autoKeys.pop() as Map<TableStore, number>
    const parent = this.autoKeys[this.autoKeys.length - 1]
    if (parent === undefined) this.baseKeys = level
    else for (const [store, key] of level) if (!parent.has(store)) parent.set(store, key)
    return result
  }

  /** Undoes every change after the body ran (a commit that could not be appended). */
  rollbackAll(): void {
    this.#rollback(0)
    restoreKeys(this.baseKeys ?? undefined)
  }

  /** Rolls the current savepoint level back: its changes, then its auto-key counters. */
  #rollbackLevel(mark: number): void {
    this.#rollback(mark)
    restoreKeys(this.autoKeys.pop())
  }

  /** Undoes the log back to `mark`, newest first. The original error is what the caller sees. */
  #rollback(mark: number): void {
    for (let i = this.log.length - 1; i >= mark; i--) {
      const op = this.log[i] as Op
      if (op.type === 'record') this.#tables.store(op.table).undo(op)
      else this.schemaUndo.get(op)?.()
    }
    this.log.length = mark
  }
}

function restoreKeys(level: Map<TableStore, number> | undefined): void {
  if (level !== undefined) for (const [store, key] of level) store.nextAutoKey = key
}

export function isAsyncFunction(fn: unknown): boolean {
  const name = (fn as { constructor?: { name?: string } }).constructor?.name
  return name === 'AsyncFunction' || name === 'AsyncGeneratorFunction'
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

export function asyncBody(): InvalidStateError {
  return new InvalidStateError(
    'db.transaction() runs its body synchronously: an async function (or one returning a promise) cannot be atomic. ' +
      'Do the awaiting before or after, or hold table.lock.write(async () => ...) instead.',
  )
}
