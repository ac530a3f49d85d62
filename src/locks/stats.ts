import { L_STAT_DEADLOCKS, L_STAT_TIMEOUTS, L_STAT_WAITED_US, L_STAT_WAITS } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'

/** Contention figures of one table's lock (see `db.stats()`). */
export interface LockStats {
  /** Acquisitions that could not be granted at once and waited (whatever the outcome). */
  readonly waits: number
  /** Milliseconds spent in those waits, in total. */
  readonly waitedMs: number
  /** Acquisitions that gave up with `LockTimeoutError`. */
  readonly timeouts: number
  /** Transactions re-run after losing a deadlock on this table. */
  readonly deadlockRetries: number
}

/**
 * Where a lock counts its contention: in the lock object for a local database, in shared
 * memory for a shared one, so that every thread's waits add up to one figure per table.
 */
export interface LockCounters {
  /** One wait ended (granted, timed out or given up) after `ms`. */
  waited(ms: number): void
  timedOut(): void
  deadlockRetried(): void
  read(): LockStats
}

/** Counters of a lock used by one thread. */
export class LocalCounters implements LockCounters {
  #waits = 0
  #waitedMs = 0
  #timeouts = 0
  #retries = 0

  waited(ms: number): void {
    this.#waits++
    this.#waitedMs += ms
  }
  timedOut(): void {
    this.#timeouts++
  }
  deadlockRetried(): void {
    this.#retries++
  }
  read(): LockStats {
    return { waits: this.#waits, waitedMs: this.#waitedMs, timeouts: this.#timeouts, deadlockRetries: this.#retries }
  }
}

/** Counters of a shared lock: words of its lock slot, added to by every thread. */
export class SharedCounters implements LockCounters {
  readonly #i32: Int32Array
  readonly #i64: BigInt64Array
  readonly #base: number

  constructor(mem: SharedMemory, lockSlot: number) {
    this.#i32 = mem.i32
    this.#i64 = new BigInt64Array(mem.buffers.control)
    this.#base = mem.lock(lockSlot)
  }

  waited(ms: number): void {
    Atomics.add(this.#i32, this.#base + L_STAT_WAITS, 1)
    Atomics.add(this.#i64, (this.#base + L_STAT_WAITED_US) / 2, BigInt(Math.round(ms * 1000)))
  }
  timedOut(): void {
    Atomics.add(this.#i32, this.#base + L_STAT_TIMEOUTS, 1)
  }
  deadlockRetried(): void {
    Atomics.add(this.#i32, this.#base + L_STAT_DEADLOCKS, 1)
  }
  read(): LockStats {
    return {
      waits: Atomics.load(this.#i32, this.#base + L_STAT_WAITS),
      waitedMs: Number(Atomics.load(this.#i64, (this.#base + L_STAT_WAITED_US) / 2)) / 1000,
      timeouts: Atomics.load(this.#i32, this.#base + L_STAT_TIMEOUTS),
      deadlockRetries: Atomics.load(this.#i32, this.#base + L_STAT_DEADLOCKS),
    }
  }
}
