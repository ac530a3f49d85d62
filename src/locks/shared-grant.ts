import { guardLock, guardUnlock } from '../shared/guard'
import { L_GUARD, L_READERS, L_VERSION, L_WAITERS, L_WRITER, L_WRITER_DEPTH, L_WRITERS_WAITING, WAIT_WRITER } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'
import { LockWaits, POLL_MS, lockPlace, type LockOptions } from './shared-waits'
import type { LockMode } from './types'

/** Loads spent watching a lock word before going to sleep on it (a few microseconds). */
const SPINS = 4000

/**
 * The cross-thread part of a {@link SharedRWLock} (./shared-lock.ts), as one thread sees it: the
 * grant words in shared memory (many readers or one writer, writer-preferring, holders recorded
 * per thread so that a dead thread's grants can be given back), and the waits for a grant.
 */
export class SharedGrant {
  readonly #mem: SharedMemory
  readonly #i32: Int32Array
  readonly #base: number
  readonly #me: number
  readonly #myReaders: number
  /** This thread's waits in flight on this lock (undone by the reaper if it dies). */
  readonly #myWaits: number
  readonly #timeoutMs: number
  /** How errors name this lock's guard word. */
  readonly #guard: string
  readonly #waits: LockWaits

  constructor(options: LockOptions) {
    // The place is shared with the waits; the grant keeps its own copies of the words it reads on
    // every acquisition and release.
    const at = lockPlace(options)
    this.#mem = at.mem
    this.#i32 = at.i32
    this.#base = at.base
    this.#me = at.me
    this.#myReaders = at.mem.readers(options.lockSlot, options.threadSlot)
    this.#myWaits = at.myWaits
    this.#timeoutMs = at.timeoutMs
    this.#guard = at.guard
    this.#waits = new LockWaits(at, options.counters)
  }

  /** Whether any thread (this one included) holds a cross-thread grant. */
  get held(): boolean {
    const i32 = this.#i32
    const base = this.#base
    return Atomics.load(i32, base + L_WRITER) !== 0 || Atomics.load(i32, base + L_READERS) !== 0
  }

  /**
   * Whether another thread holds a cross-thread grant of this lock. Asked under the append mutex:
   * plain reads suffice, since every grant is followed by a pass through that mutex (see
   * {@link #fence}) — a grant made before this look was seen, and one made after it is followed
   * by a catch-up that sees what this look let through.
   */
  heldElsewhere(): boolean {
    const i32 = this.#i32
    const writer = i32[this.#base + L_WRITER] as number
    return (writer !== 0 && writer !== this.#me + 1) || i32[this.#base + L_READERS] !== i32[this.#myReaders]
  }

  /** One attempt at the cross-thread grant; `registered`: a waiter counted as a waiting writer. */
  #tryGrant(mode: LockMode, registered: boolean): boolean {
    const i32 = this.#i32
    const base = this.#base
    const me = this.#me + 1
    guardLock(i32, base + L_GUARD, this.#me, this.#timeoutMs, this.#guard)
    try {
      const writer = i32[base + L_WRITER] as number
      if (mode === 'read') {
        // Writer-preferring: a waiting writer keeps new readers out.
        if (writer === me || (writer === 0 && ((i32[base + L_WRITERS_WAITING] as number) === 0 || (i32[this.#myReaders] as number) > 0))) {
          i32[base + L_READERS] = (i32[base + L_READERS] as number) + 1
          i32[this.#myReaders] = (i32[this.#myReaders] as number) + 1
          return true
        }
        return false
      }
      // Other threads' grants (this thread's own never exclude its calls).
      const othersRead = i32[base + L_READERS] !== i32[this.#myReaders]
      if ((writer === 0 || writer === me) && !othersRead) {
        i32[base + L_WRITER] = me
        i32[base + L_WRITER_DEPTH] = (i32[base + L_WRITER_DEPTH] as number) + 1
        if (registered) {
          i32[base + L_WRITERS_WAITING] = (i32[base + L_WRITERS_WAITING] as number) - 1
          Atomics.sub(i32, this.#myWaits, WAIT_WRITER)
        }
        return true
      }
      return false
    } finally {
      guardUnlock(i32, base + L_GUARD)
    }
  }

  /**
   * Passes through the shared log's append mutex once a grant is made: a single-record write that
   * looked at this lock (under that mutex) before the grant has then reached the log, so the
   * holder's next catch-up sees it; one that looks after sees the grant ({@link heldElsewhere}).
   * If the mutex cannot be had in time, the grant is given back.
   */
  #fence(mode: LockMode): void {
    const mem = this.#mem
    let count: number
    try {
      count = mem.lockAppend(this.#me, this.#timeoutMs, mem.commits)
    } catch (error) {
      this.release(mode)
      throw error
    }
    mem.unlockAppend(this.#me, count)
  }

  /** Takes the grant, blocking this thread up to `timeout` ms while another thread holds it. */
  acquire(mode: LockMode, timeout: number): void {
    if (!this.#tryGrant(mode, false)) this.#waitForGrant(mode, timeout)
    this.#fence(mode)
  }

  #waitForGrant(mode: LockMode, timeout: number): void {
    // The deadline is read only once a wait begins (the in-thread part never waits).
    const deadline = Date.now() + timeout
    const waiter = this.#waits.start(mode, false)
    try {
      for (;;) {
        const version = Atomics.load(this.#i32, this.#base + L_VERSION)
        if (this.#tryGrant(mode, mode !== 'read')) return waiter.granted()
        this.#waits.check(mode, waiter, deadline, timeout)
        // A holder on another core usually lets go within microseconds: spin a little before
        // sleeping, since waking a sleeping thread costs far more than the wait itself.
        if (spinWhile(this.#i32, this.#base + L_VERSION, version)) continue
        Atomics.wait(this.#i32, this.#base + L_VERSION, version, Math.min(deadline - Date.now(), POLL_MS))
      }
    } finally {
      waiter.stop()
    }
  }

  /** Takes the grant, waiting without blocking the thread until `deadline`. */
  async acquireAsync(mode: LockMode, deadline: number, timeout: number): Promise<void> {
    if (!this.#tryGrant(mode, false)) await this.#waitForGrantAsync(mode, deadline, timeout)
    this.#fence(mode)
  }

  async #waitForGrantAsync(mode: LockMode, deadline: number, timeout: number): Promise<void> {
    const waiter = this.#waits.start(mode, true)
    // A pending Atomics.waitAsync does not keep Node alive: hold a timer while waiting.
    const keepAlive = setInterval(() => {}, 1 << 30)
    try {
      for (;;) {
        const version = Atomics.load(this.#i32, this.#base + L_VERSION)
        if (this.#tryGrant(mode, mode !== 'read')) return waiter.granted()
        this.#waits.check(mode, waiter, deadline, timeout)
        const wait = Atomics.waitAsync(this.#i32, this.#base + L_VERSION, version, Math.min(deadline - Date.now(), POLL_MS))
        if (wait.async) await wait.value
      }
    } finally {
      clearInterval(keepAlive)
      waiter.stop()
    }
  }

  /** Gives back one grant in `mode` and wakes the waiters. */
  release(mode: LockMode): void {
    const i32 = this.#i32
    const base = this.#base
    guardLock(i32, base + L_GUARD, this.#me, this.#timeoutMs, this.#guard)
    if (mode === 'read') {
      i32[base + L_READERS] = (i32[base + L_READERS] as number) - 1
      i32[this.#myReaders] = (i32[this.#myReaders] as number) - 1
    } else {
      const depth = (i32[base + L_WRITER_DEPTH] as number) - 1
      i32[base + L_WRITER_DEPTH] = depth
      if (depth === 0) i32[base + L_WRITER] = 0
    }
    guardUnlock(i32, base + L_GUARD)
    Atomics.add(i32, base + L_VERSION, 1)
    // A waiter counts itself before its first look at the version, so none can be missed here.
    if (Atomics.load(i32, base + L_WAITERS) > 0) Atomics.notify(i32, base + L_VERSION)
  }
}

/** Spins up to ~SPINS loads while `i32[index]` still holds `value`; true if it changed. */
function spinWhile(i32: Int32Array, index: number, value: number): boolean {
  for (let i = 0; i < SPINS; i++) if (Atomics.load(i32, index) !== value) return true
  return false
}
