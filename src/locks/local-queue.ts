import { LockTimeoutError } from '../errors'
import { endWait, startWait, type LocalWait } from './local-waits'
import type { LockCounters } from './stats'

/** A queued async acquisition; `upgrading`: the read holder waiting to upgrade, if it is one. */
export interface Waiter extends LocalWait {
  readonly write: boolean
  readonly resolve: () => void
  readonly reject: (error: Error) => void
  readonly since: number
  timer: ReturnType<typeof setTimeout> | undefined
  /** Withdraws the wait from a shared database's wait-for graph, if it is in one. */
  readonly withdraw: (() => void) | undefined
}

/** setTimeout fires at once above this. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The async acquisitions waiting for a `LocalRWLock` (./local-lock.ts), in the order they
 * go: read holders waiting to upgrade first, then the others FIFO. The lock decides when the
 * first may go ({@link grant}); a waiter still here at its timeout leaves with `LockTimeoutError`.
 */
export class LockQueue {
  /** FIFO of waiters; only items from `#head` onward are live. */
  #queue: Waiter[] = []
  #head = 0
  /** Read holders waiting to upgrade; they go first (they already hold) and hold back the queue. */
  readonly #upgrades: Waiter[] = []

  /** `expired`: a waiter left at its timeout (a writer that leaves may unblock readers behind it). */
  constructor(
    readonly name: string,
    readonly counters: LockCounters,
    readonly expired: () => void,
  ) {}

  /** No waiter, to upgrade or in the FIFO. */
  get empty(): boolean {
    return this.#head === this.#queue.length && this.#upgrades.length === 0
  }

  /** The read holder waiting longest to upgrade, if any. */
  get upgrade(): Waiter | undefined {
    return this.#upgrades.length === 0 ? undefined : this.#upgrades[0]
  }

  /** The first waiter of the FIFO, if any. */
  get first(): Waiter | undefined {
    return this.#head === this.#queue.length ? undefined : this.#queue[this.#head]
  }

  /** Queues `waiter`, with its timer. */
  add(waiter: Waiter, timeoutMs: number): void {
    startWait(waiter)
    // A ref'd timer: a pending promise alone would let Node exit while we wait.
    waiter.timer = setTimeout(() => this.#expire(waiter, timeoutMs), Math.min(timeoutMs, MAX_TIMER_MS))
    if (waiter.upgrading === undefined) this.#queue.push(waiter)
    else this.#upgrades.push(waiter)
  }

  /** Lets the first upgrade, or else the first of the FIFO, go: it holds the lock now. */
  grant(waiter: Waiter): void {
    if (waiter.upgrading !== undefined) this.#upgrades.shift()
    else this.#head++
    clearTimeout(waiter.timer)
    this.#endWait(waiter)
    this.counters.waited(performance.now() - waiter.since)
    waiter.resolve()
  }

  /** Lets go of the granted part of the FIFO: all of it when it is done, else now and then. */
  compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }

  #expire(waiter: Waiter, timeoutMs: number): void {
    const list = waiter.upgrading === undefined ? this.#queue : this.#upgrades
    const index = list.indexOf(waiter, waiter.upgrading === undefined ? this.#head : 0)
    if (index < 0) return
    list.splice(index, 1)
    this.#endWait(waiter)
    this.counters.waited(performance.now() - waiter.since)
    this.counters.timedOut()
    const what = waiter.upgrading !== undefined ? 'to upgrade a read lock to write' : `for the ${waiter.write ? 'write' : 'read'} lock`
    waiter.reject(
      new LockTimeoutError(`Timed out after ${timeoutMs} ms waiting ${what} on table \`${this.name}\``, { table: this.name }),
    )
    this.expired()
  }

  #endWait(waiter: Waiter): void {
    endWait(waiter)
    waiter.withdraw?.()
  }
}
