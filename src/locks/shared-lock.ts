import { InvalidArgumentError, describe } from '../errors'
import { guardLock, guardUnlock } from '../shared/guard'
import { L_GUARD, L_READERS, L_VERSION, L_WAITERS, L_WRITER, L_WRITER_DEPTH, L_WRITERS_WAITING, WAIT_WRITER } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'
import { CHECKS_PER_ATOMIC_LOAD } from '../shared/replica'
import { LocalRWLock } from './local-lock'
import { SharedCounters, type LockCounters } from './stats'
import { LockWaits, POLL_MS } from './shared-waits'
import { publishInThreadWait } from './wait-graph'
import { checkOptions } from '../options'
import type { AcquireOptions, LockMode, Release, RWLock } from './types'

/**
 * What a synchronous grant took: a cross-thread read or write grant, or only the in-thread part
 * ('checked': a single-record write, which takes no cross-thread grant; its change is checked
 * when it reaches the shared log).
 */
type SyncMode = LockMode | 'checked'

/** Loads spent watching a lock word before going to sleep on it (a few microseconds). */
const SPINS = 4000
/**
 * A table's reader-writer lock shared by every thread of a shared database. Within a thread it
 * behaves like {@link LocalRWLock} (async holders, re-entrancy, sync calls that never wait for an
 * own-thread holder); across threads the grant lives in shared memory: many readers or one
 * writer, writer-preferring, holders recorded per thread so that a dead thread's grants can be
 * given back, and waits that detect deadlock cycles and give up at the timeout.
 *
 * @example
 * ```ts
 * // in a worker
 * const db = Database.attach(workerData.db)
 * db.getTable('jobs').lock.writeSync(() => { ... })   // blocks this worker while another holds it
 * ```
 */
export class SharedRWLock implements RWLock {
  readonly #local: LocalRWLock
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
  /** Modes of the `enterSync` grants held, innermost last. */
  readonly #syncModes: SyncMode[] = []
  readonly #waits: LockWaits
  /**
   * The commit count at which this thread last found that a bare read of this table may run: its
   * replica had every commit, and no holder in this thread held this lock. Every way of taking
   * this lock in this thread first moves it one back ({@link #unsettle}), to a count already
   * passed, which the count will not equal again short of 2^32 commits: so one compare with the
   * count answers both questions (see {@link quiet}). (An integer, not NaN: a number field that
   * may hold NaN is a boxed double, and the compare costs more.)
   */
  #quietAt = 0
  /** Bare reads left before {@link quiet} answers false, so that the count is read with `Atomics` again. */
  #quietLeft = 0

  constructor(options: { name: string; timeoutMs: number; memory: SharedMemory; lockSlot: number; threadSlot: number }) {
    this.#local = new LocalRWLock({
      name: options.name,
      timeoutMs: options.timeoutMs,
      tag: options.lockSlot,
      counters: new SharedCounters(options.memory, options.lockSlot),
      inThreadWaits: (tags) => publishInThreadWait(options.memory, options.threadSlot, options.lockSlot, tags),
    })
    this.#mem = options.memory
    this.#i32 = options.memory.i32
    this.#base = options.memory.lock(options.lockSlot)
    this.#me = options.threadSlot
    this.#myReaders = options.memory.readers(options.lockSlot, options.threadSlot)
    this.#myWaits = options.memory.waits(options.lockSlot, options.threadSlot)
    this.#timeoutMs = options.timeoutMs
    this.#guard = `the guard word of table \`${options.name}\``
    this.#waits = new LockWaits({ ...options, counters: this.#local.counters })
    this.#quietAt = (options.memory.commits - 1) | 0
  }

  /** Database-wide: every thread's waits on this table add up here. */
  get counters(): LockCounters {
    return this.#local.counters
  }

  get locked(): boolean {
    const i32 = this.#i32
    const base = this.#base
    return this.#local.locked || Atomics.load(i32, base + L_WRITER) !== 0 || Atomics.load(i32, base + L_READERS) !== 0
  }

  read<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    return this.#async('read', fn, options)
  }

  write<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    return this.#async('write', fn, options)
  }

  readSync<R>(fn: () => R, options?: AcquireOptions): R {
    return this.#runSync('read', fn, options)
  }

  writeSync<R>(fn: () => R, options?: AcquireOptions): R {
    return this.#runSync('write', fn, options)
  }

  #runSync<R>(mode: LockMode, fn: () => R, options?: AcquireOptions): R {
    checkFn(fn)
    // Read the caller's options once, checked (a getter or proxy of theirs cannot throw later).
    const grant = this.#enter(mode, this.#local.timeoutOf(options))
    try {
      return fn()
    } finally {
      this.#exit(mode, grant)
    }
  }

  acquireSync(mode: LockMode, options?: AcquireOptions): Release {
    if (mode !== 'read' && mode !== 'write') throw new InvalidArgumentError(`Expected \`mode\` to be 'read' or 'write', got ${describe(mode)}`)
    const grant = this.#enter(mode, this.#local.timeoutOf(options))
    let done = false
    return () => {
      if (done) return
      done = true
      this.#exit(mode, grant)
    }
  }

  enterSync(mode: LockMode): unknown {
    const grant = this.#enter(mode, this.#timeoutMs)
    // Synchronous grants end in the reverse order (before the thread yields): a stack of modes.
    this.#syncModes.push(mode)
    return grant
  }

  exitSync(grant: unknown): void {
    const mode = this.#syncModes.pop() as SyncMode
    if (mode === 'checked') this.#local.exitSync(grant)
    else this.#exit(mode, grant)
  }

  /**
   * Takes the in-thread part of the lock for one single-record write outside a transaction (an
   * async holder of this thread still excludes it), no cross-thread grant: the caller appends its
   * change only if its record did not change meanwhile and {@link heldElsewhere} is false then.
   * Give it back with `exitSync`.
   */
  enterChecked(): unknown {
    this.#unsettle()
    const grant = this.#local.enterSync('write')
    this.#syncModes.push('checked')
    return grant
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

  /** Takes the in-thread part (it never waits), then the cross-thread grant; returns the former's. */
  #enter(mode: LockMode, timeout: number): unknown {
    this.#unsettle()
    const local = this.#local.enterSync(mode)
    try {
      this.#acquireShared(mode, timeout)
    } catch (error) {
      this.#local.exitSync(local)
      throw error
    }
    return local
  }

  #exit(mode: LockMode, local: unknown): void {
    this.#releaseShared(mode)
    this.#local.exitSync(local)
  }

  /**
   * True when a read of one record by key (`get`) may run bare, with neither lock nor catch-up:
   * the commit count, read plainly from `commits` (its word: `SharedMemory.commitsWord()`), is
   * the one at which {@link settle} last let it (so this replica still has every commit, and
   * nothing in this thread took this lock since), and fewer than 64 bare reads of this table ran
   * since. False sends the caller to the replica (`Replica.quietRead`), which reads the count
   * with `Atomics` and calls {@link settle} (or the read takes the lock). One load and compare,
   * and a countdown: the whole cost of a shared `get` over a local one. Why it is safe:
   * `Replica.quietRead` and docs/concurrency.md. (The caller passes the word: held in a closure,
   * it is a constant to the optimizing compiler, which then reads it with one instruction.)
   */
  quiet(commits: Int32Array): boolean {
    return commits[0] === this.#quietAt && --this.#quietLeft > 0
  }

  /**
   * Called by the replica, which has every commit up to count `seen` (read with `Atomics`): lets
   * the next bare reads run unless a holder in this thread holds this lock; restarts the countdown.
   */
  settle(seen: number): boolean {
    this.#quietLeft = CHECKS_PER_ATOMIC_LOAD
    if (this.#local.locked) return false
    this.#quietAt = seen
    return true
  }

  /** Before this thread takes this lock: no bare read until it settles again (see {@link #quietAt}). */
  #unsettle(): void {
    this.#quietAt = (this.#quietAt - 1) | 0
  }

  /** Acquires only the in-thread part: lock-free reads still respect own-thread async holders. */
  localReadSync<R>(fn: () => R): R {
    this.#unsettle()
    return this.#local.readSync(fn)
  }

  async #async<R>(mode: LockMode, fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    checkFn(fn)
    // Read the caller's options once, checked (a getter or proxy of theirs cannot throw later).
    options = options === undefined ? undefined : checkOptions(options, ['timeoutMs'], 'the lock')
    const timeout = options?.timeoutMs ?? this.#timeoutMs
    const deadline = Date.now() + timeout
    // Before the in-thread part is taken (it stays taken, or queued behind a holder, until the end).
    this.#unsettle()
    const run = async (): Promise<Awaited<R>> => {
      await this.#acquireSharedAsync(mode, deadline, timeout)
      try {
        return await fn()
      } finally {
        this.#releaseShared(mode)
      }
    }
    return mode === 'read' ? this.#local.read(run, options) : this.#local.write(run, options)
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
    const i32 = this.#i32
    try {
      guardLock(i32, this.#mem.appendWord, this.#me, this.#timeoutMs, "the shared log's append mutex")
    } catch (error) {
      this.#releaseShared(mode)
      throw error
    }
    guardUnlock(i32, this.#mem.appendWord)
  }

  #acquireShared(mode: LockMode, timeout: number): void {
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

  async #acquireSharedAsync(mode: LockMode, deadline: number, timeout: number): Promise<void> {
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

  #releaseShared(mode: LockMode): void {
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

/** The same argument check as the local lock: a bad callback is refused before anything is taken. */
function checkFn(fn: unknown): void {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`Expected \`fn\` to be a function, got ${describe(fn)}`)
}

/** Spins up to ~SPINS loads while `i32[index]` still holds `value`; true if it changed. */
function spinWhile(i32: Int32Array, index: number, value: number): boolean {
  for (let i = 0; i < SPINS; i++) if (Atomics.load(i32, index) !== value) return true
  return false
}
