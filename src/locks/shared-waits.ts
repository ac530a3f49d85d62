import { DeadlockError, LockTimeoutError } from '../errors'
import { guardLock, guardUnlock } from '../shared/guard'
import { L_GUARD, L_WAITERS, L_WRITERS_WAITING, WAIT_ONE, WAIT_WRITER } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'
import { heldTags } from './lock-context'
import type { LockCounters } from './stats'
import type { LockMode } from './types'
import { SYNC_WAIT, findCycle, publishWait, victimOf, waiterId } from './wait-graph'
import { shortName } from '../values/describe'

/** One wait in flight: when it began, its record in the wait graph, and how it ends. */
export interface Waiter {
  readonly since: number
  /** Its wait record ({@link SYNC_WAIT} for a synchronous wait), or -1 if it could not be published. */
  readonly record: number
  /** The cycle this wait last saw and when it first saw it: reported only if it lasts. */
  cycle: { readonly path: string; readonly since: number } | null
  granted(): void
  stop(): void
}

/** How long one wait lasts before re-checking for deadlock and timeout. */
export const POLL_MS = 20
/** After this long in a cycle, any member aborts (not just the designated one). */
const CYCLE_PATIENCE_MS = 500

/** What a thread is given to take part in one shared lock. */
export interface LockOptions {
  name: string
  timeoutMs: number
  memory: SharedMemory
  lockSlot: number
  threadSlot: number
  counters: LockCounters
}

/** Where one thread's part of one shared lock lives in shared memory, worked out once per lock. */
export interface LockPlace {
  readonly mem: SharedMemory
  readonly i32: Int32Array
  /** The lock's words. */
  readonly base: number
  readonly slot: number
  /** This thread's slot. */
  readonly me: number
  /** This thread's waits in flight on this lock (undone by the reaper if it dies). */
  readonly myWaits: number
  readonly name: string
  readonly timeoutMs: number
  /** How errors name this lock's guard word. */
  readonly guard: string
}

/** The place of `options`' lock and thread, for the grant and its waits alike. */
export function lockPlace(options: LockOptions): LockPlace {
  const { memory, lockSlot, threadSlot } = options
  return {
    mem: memory,
    i32: memory.i32,
    base: memory.lock(lockSlot),
    slot: lockSlot,
    me: threadSlot,
    myWaits: memory.waits(lockSlot, threadSlot),
    name: options.name,
    timeoutMs: options.timeoutMs,
    guard: `the guard word of table \`${shortName(options.name)}\``,
  }
}

/**
 * The waits of one thread on one shared lock's grant ({@link SharedGrant}, in ./shared-grant.ts): each
 * counted in shared memory (so a reaper undoes every wait of a dead thread), published for
 * deadlock detection, and checked for a lasting cycle and for the timeout.
 */
export class LockWaits {
  readonly #at: LockPlace
  readonly #counters: LockCounters

  constructor(at: LockPlace, counters: LockCounters) {
    this.#at = at
    this.#counters = counters
  }

  /**
   * Counts a wait in flight (per thread and lock, so a reaper undoes every one of a dead thread)
   * and publishes it for deadlock detection: a synchronous wait as the thread's, an async one as
   * its holder's, with the locks that holder holds.
   */
  start(mode: LockMode, async: boolean): Waiter {
    let registered = mode !== 'read'
    Atomics.add(this.#at.i32, this.#at.base + L_WAITERS, 1)
    Atomics.add(this.#at.i32, this.#at.myWaits, WAIT_ONE)
    if (registered) this.#setWritersWaiting(1)
    const published = async ? this.#publishAsyncWait() : this.#publishSyncWait()
    const since = Date.now()
    return {
      since,
      record: published.record,
      cycle: null,
      granted: () => {
        registered = false
      },
      stop: () => {
        this.#counters.waited(Date.now() - since)
        published.withdraw()
        if (registered) this.#setWritersWaiting(-1)
        Atomics.sub(this.#at.i32, this.#at.myWaits, WAIT_ONE)
        Atomics.sub(this.#at.i32, this.#at.base + L_WAITERS, 1)
      },
    }
  }

  #publishSyncWait(): { record: number; withdraw(): void } {
    this.#at.mem.setWaitingFor(this.#at.me, this.#at.slot)
    return { record: SYNC_WAIT, withdraw: () => this.#at.mem.setWaitingFor(this.#at.me, -1) }
  }

  /** A free async wait record of this thread, holding this wait; record -1 if all are taken. */
  #publishAsyncWait(): { record: number; withdraw(): void } {
    return publishWait(this.#at.mem, this.#at.me, this.#at.slot, heldTags().filter((tag) => tag !== this.#at.slot))
  }

  check(mode: LockMode, waiter: Waiter, deadline: number, timeout: number): void {
    const cycle = waiter.record < 0 ? null : findCycle(this.#at.mem, this.#at.me, waiter.record, this.#at.slot)
    if (cycle === null) waiter.cycle = null
    else if (this.#cycleLasts(waiter, cycle) && (victimOf(this.#at.mem, cycle) === waiterId(this.#at.me, waiter.record) || Date.now() - (waiter.cycle as { since: number }).since > CYCLE_PATIENCE_MS)) {
      throw new DeadlockError(`Deadlock on table \`${shortName(this.#at.name)}\`: waiters ${cycle.join(' → ')} wait for each other; this one backs off`, {
        table: this.#at.name,
      })
    }
    if (Date.now() >= deadline) {
      this.#counters.timedOut()
      throw new LockTimeoutError(`Timed out after ${timeout} ms waiting for the ${mode === 'read' ? 'read' : 'write'} lock of table \`${shortName(this.#at.name)}\` (held by another thread)`, {
        table: this.#at.name,
      })
    }
  }

  /**
   * Whether the same cycle was already seen at least a poll ago. The graph is read word by word
   * while other threads move on, so one reading can join edges of different instants (a holder
   * that let a lock go and began another wait in between): a real deadlock is still there a
   * poll later, such a phantom is not.
   */
  #cycleLasts(waiter: Waiter, cycle: number[]): boolean {
    const path = cycle.join(' ')
    const now = Date.now()
    if (waiter.cycle === null || waiter.cycle.path !== path) {
      waiter.cycle = { path, since: now }
      return false
    }
    return now - waiter.cycle.since >= POLL_MS
  }

  /** Registers (+1) or withdraws (-1) a waiting writer, counted per thread for the reaper too. */
  #setWritersWaiting(delta: number): void {
    const i32 = this.#at.i32
    guardLock(i32, this.#at.base + L_GUARD, this.#at.me, this.#at.timeoutMs, this.#at.guard)
    i32[this.#at.base + L_WRITERS_WAITING] = (i32[this.#at.base + L_WRITERS_WAITING] as number) + delta
    Atomics.add(i32, this.#at.myWaits, delta * WAIT_WRITER)
    guardUnlock(i32, this.#at.base + L_GUARD)
  }
}
