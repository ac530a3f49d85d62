import type { LockCounters } from './stats'

/** Lock mode: many readers or one writer. */
export type LockMode = 'read' | 'write'

/** Releases a lock taken with {@link RWLock.acquireSync}; calling it twice is a no-op. */
export type Release = () => void

/** Options of one lock acquisition. */
export interface AcquireOptions {
  /** Give up after this many milliseconds with `LockTimeoutError` (default: the lock's own). */
  timeoutMs?: number
}

/**
 * A table's reader-writer lock: many readers or one writer, writer-preferring (a waiting
 * writer stops new readers from entering, so writers are never starved).
 *
 * Every acquisition gives up after its timeout with `LockTimeoutError`, never hangs.
 * Calls made inside a holder's own callback (its async context) are re-entrant.
 *
 * @example
 * ```ts
 * await users.lock.write(async () => {
 *   const n = users.count()          // re-entrant: this context holds the lock
 *   await somethingSlow()
 *   users.insert({ n })
 * })
 * ```
 */
export interface RWLock {
  /** Runs `fn` holding the read lock; waits without blocking the event loop. */
  read<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>>
  /** Runs `fn` holding the write lock; waits without blocking the event loop. */
  write<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>>
  /** Runs synchronous `fn` holding the read lock; blocks the thread while waiting (workers). */
  readSync<R>(fn: () => R, options?: AcquireOptions): R
  /** Runs synchronous `fn` holding the write lock; blocks the thread while waiting (workers). */
  writeSync<R>(fn: () => R, options?: AcquireOptions): R
  /**
   * Takes the lock synchronously and returns its release. Used by transactions, which hold
   * locks from first touch to commit. Re-entrant for the current holder.
   * @internal
   */
  acquireSync(mode: LockMode, options?: AcquireOptions): Release
  /**
   * Takes the lock synchronously like `acquireSync`, but returns a grant token instead of a
   * closure (nothing allocated on the hot path of single calls); give it back with `exitSync`.
   * @internal
   */
  enterSync(mode: LockMode): unknown
  /** Gives back a grant of `enterSync`, once. @internal */
  exitSync(grant: unknown): void
  /** True while any reader or writer holds the lock (for diagnostics and tests). */
  readonly locked: boolean
  /** @internal Where this lock counts its waits, timeouts and deadlock retries (`db.stats()`). */
  readonly counters: LockCounters
}
