import { DeadlockError, LockTimeoutError } from '../errors'
import { guardLock, guardUnlock } from '../shared/guard'
import { L_GUARD, L_WAITERS, L_WRITERS_WAITING, WAIT_ONE, WAIT_WRITER } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'
import { heldTags } from './lock-context'
import type { LockCounters } from './stats'
import type { LockMode } from './types'
import { SYNC_WAIT, findCycle, publishWait, victimOf, waiterId } from './wait-graph'

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

/**
 * The waits of one thread on one shared lock's grant ({@link SharedGrant}, in ./shared-grant.ts): each
 * counted in shared memory (so a reaper undoes every wait of a dead thread), published for
 * deadlock detection, and checked for a lasting cycle and for the timeout.
 */
export class LockWaits {
  readonly #mem: SharedMemory
  readonly #i32: Int32Array
  readonly #base: number
  readonly #slot: number
  readonly #me: number
  /** This thread's waits in flight on this lock (undone by the reaper if it dies). */
  readonly #myWaits: number
  readonly #name: string
  readonly #timeoutMs: number
  readonly #guard: string
  readonly #counters: LockCounters

  constructor(options: { name: string; timeoutMs: number; memory: SharedMemory; lockSlot: number; threadSlot: number; counters: LockCounters }) {
    this.#mem = options.memory
    this.#i32 = options.memory.i32
    this.#slot = options.lockSlot
    this.#base = options.memory.lock(options.lockSlot)
    this.#me = options.threadSlot
    this.#myWaits = options.memory.waits(options.lockSlot, options.threadSlot)
    this.#name = options.name
    this.#timeoutMs = options.timeoutMs
    this.#guard = `the guard word of table \`${options.name}\``
    this.#counters = options.counters
  }

  /**
   * Counts a wait in flight (per thread and lock, so a reaper undoes every one of a dead thread)
   * and publishes it for deadlock detection: a synchronous wait as the thread's, an async one as
   * its holder's, with the locks that holder holds.
   */
  start(mode: LockMode, async: boolean): Waiter {
    let registered = mode !== 'read'
    Atomics.add(this.#i32, this.#base + L_WAITERS, 1)
    Atomics.add(this.#i32, this.#myWaits, WAIT_ONE)
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
        Atomics.sub(this.#i32, this.#myWaits, WAIT_ONE)
        Atomics.sub(this.#i32, this.#base + L_WAITERS, 1)
      },
    }
  }

  #publishSyncWait(): { record: number; withdraw(): void } {
    this.#mem.setWaitingFor(this.#me, this.#slot)
    return { record: SYNC_WAIT, withdraw: () => this.#mem.setWaitingFor(this.#me, -1) }
  }

  /** A free async wait record of this thread, holding this wait; record -1 if all are taken. */
  #publishAsyncWait(): { record: number; withdraw(): void } {
    return publishWait(this.#mem, this.#me, this.#slot, heldTags().filter((tag) => tag !== this.#slot))
  }

  check(mode: LockMode, waiter: Waiter, deadline: number, timeout: number): void {
    const cycle = waiter.record < 0 ? null : findCycle(this.#mem, this.#me, waiter.record, this.#slot)
    if (cycle === null) waiter.cycle = null
    else if (this.#cycleLasts(waiter, cycle) && (victimOf(this.#mem, cycle) === waiterId(this.#me, waiter.record) || Date.now() - (waiter.cycle as { since: number }).since > CYCLE_PATIENCE_MS)) {
      throw new DeadlockError(`Deadlock on table \`${this.#name}\`: waiters ${cycle.join(' → ')} wait for each other; this one backs off`, {
        table: this.#name,
      })
    }
    if (Date.now() >= deadline) {
      this.#counters.timedOut()
      throw new LockTimeoutError(`Timed out after ${timeout} ms waiting for the ${mode === 'read' ? 'read' : 'write'} lock of table \`${this.#name}\` (held by another thread)`, {
        table: this.#name,
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
    const i32 = this.#i32
    guardLock(i32, this.#base + L_GUARD, this.#me, this.#timeoutMs, this.#guard)
    i32[this.#base + L_WRITERS_WAITING] = (i32[this.#base + L_WRITERS_WAITING] as number) + delta
    Atomics.add(i32, this.#myWaits, delta * WAIT_WRITER)
    guardUnlock(i32, this.#base + L_GUARD)
  }
}
