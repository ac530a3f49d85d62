import type { SharedMemory } from '../shared/memory'

/** How long one wait lasts before looking again (a closed database stops following then). */
const WAIT_MS = 1000

/**
 * Keeps a shared database's replica in this thread caught up while something live (a watch, a
 * change feed) waits for other threads' commits: without it, they would be applied, and their
 * listeners told, only at this thread's next read or write. Waits with `Atomics.waitAsync`,
 * which does not keep the process alive.
 */
export class Follower {
  readonly #memory: SharedMemory
  /** This thread's slot and the lock timeout, to count this thread among the waiters (`SharedMemory.commitsChanged`). */
  readonly #slot: number
  readonly #lockTimeoutMs: number
  readonly #catchUp: () => void
  readonly #report: (error: unknown) => void
  #users = 0
  #waiting = false

  constructor(memory: SharedMemory, slot: number, lockTimeoutMs: number, catchUp: () => void, report: (error: unknown) => void) {
    this.#memory = memory
    this.#slot = slot
    this.#lockTimeoutMs = lockTimeoutMs
    this.#catchUp = catchUp
    this.#report = report
  }

  /** Follows the log until the returned function is called (counted: many users share one wait). */
  follow(): () => void {
    this.#users++
    if (!this.#waiting) this.#wait()
    let done = false
    return () => {
      if (!done) this.#users--
      done = true
    }
  }

  /** Stops following for good (the database closed). */
  stop(): void {
    this.#users = -Infinity
  }

  /**
   * Waits for the commit count to leave `seen`, then catches up. The count is read before
   * catching up: a commit appended meanwhile makes the next wait return at once, never lost.
   */
  #wait(seen = this.#memory.commits): void {
    this.#waiting = true
    void this.#memory.commitsChanged(seen, WAIT_MS, this.#slot, this.#lockTimeoutMs).then(() => {
      this.#waiting = false
      if (this.#users <= 0) return
      const next = this.#memory.commits
      try {
        this.#catchUp() // one Atomics.load when this replica is already at the tail
      } catch (error) {
        this.#report(error)
      }
      if (this.#users > 0 && !this.#waiting) this.#wait(next)
    })
  }
}
