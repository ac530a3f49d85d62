import { InvalidArgumentError, describe } from '../errors'
import { type SharedMemory } from '../shared/memory'
import { CHECKS_PER_ATOMIC_LOAD } from '../shared/replica'
import { LocalRWLock } from './local-lock'
import { SharedGrant } from './shared-grant'
import { SharedCounters, type LockCounters } from './stats'
import { publishInThreadWait } from './wait-graph'
import { checkOptions } from '../options'
import type { AcquireOptions, LockMode, Release, RWLock } from './types'

/**
 * What a synchronous grant took: a cross-thread read or write grant, or only the in-thread part
 * ('checked': a single-record write, which takes no cross-thread grant; its change is checked
 * when it reaches the shared log).
 */
type SyncMode = LockMode | 'checked'

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
  /** The cross-thread part, in shared memory. */
  readonly #shared: SharedGrant
  readonly #timeoutMs: number
  /** Modes of the `enterSync` grants held, innermost last. */
  readonly #syncModes: SyncMode[] = []
  /**
   * The commit count (the commit word, `SharedMemory.commits`) at which this thread last found that a bare read of this table may run: its
   * replica had every commit, and no holder in this thread held this lock. Every way of taking
   * this lock in this thread first moves it one back ({@link #unsettle}), to a count already
   * passed, which the count will not equal again short of 8 GiB of log: so one compare with the
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
    this.#shared = new SharedGrant({ ...options, counters: this.#local.counters })
    this.#timeoutMs = options.timeoutMs
    this.#quietAt = (options.memory.commits - 1) | 0
  }

  /** Database-wide: every thread's waits on this table add up here. */
  get counters(): LockCounters {
    return this.#local.counters
  }

  get locked(): boolean {
    return this.#local.locked || this.#shared.held
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

  /** Whether a holder in this thread (async or synchronous) holds the lock, or waits for it. */
  get heldHere(): boolean {
    return this.#local.locked
  }

  /** Whether another thread holds a cross-thread grant of this lock (see {@link SharedGrant.heldElsewhere}). */
  heldElsewhere(): boolean {
    return this.#shared.heldElsewhere()
  }

  /** Takes the in-thread part (it never waits), then the cross-thread grant; returns the former's. */
  #enter(mode: LockMode, timeout: number): unknown {
    this.#unsettle()
    const local = this.#local.enterSync(mode)
    try {
      this.#shared.acquire(mode, timeout)
    } catch (error) {
      this.#local.exitSync(local)
      throw error
    }
    return local
  }

  #exit(mode: LockMode, local: unknown): void {
    this.#shared.release(mode)
    this.#local.exitSync(local)
  }

  /**
   * True when a read of one record by key (`get`) may run bare, with neither lock nor catch-up:
   * the commit count, read plainly from `commits` (its word: `SharedMemory.commitsWord()`), is
   * the one at which {@link settle} last let it (so this replica still has every commit, and
   * nothing in this thread took this lock since), this thread's replica is not marked stale
   * (`stale`, see `Replica.staleWord`: the count repeats after 8 GiB of log), and fewer than 64
   * bare reads of this table ran since. False sends the caller to the replica (`Replica.quietRead`), which reads the count
   * with `Atomics` and calls {@link settle} (or the read takes the lock). One load and compare,
   * and a countdown: the whole cost of a shared `get` over a local one. Why it is safe:
   * `Replica.quietRead` and docs/concurrency.md. (The caller passes the word: held in a closure,
   * it is a constant to the optimizing compiler, which then reads it with one instruction.)
   */
  quiet(commits: Int32Array, stale: Int32Array): boolean {
    return commits[0] === this.#quietAt && stale[0] === 0 && --this.#quietLeft > 0
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
      await this.#shared.acquireAsync(mode, deadline, timeout)
      try {
        return await fn()
      } finally {
        this.#shared.release(mode)
      }
    }
    return mode === 'read' ? this.#local.read(run, options) : this.#local.write(run, options)
  }
}

/** The same argument check as the local lock: a bad callback is refused before anything is taken. */
function checkFn(fn: unknown): void {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`Expected \`fn\` to be a function, got ${describe(fn)}`)
}
