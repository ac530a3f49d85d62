import { threadId } from 'node:worker_threads'
import { InvalidStateError } from '../errors'
import {
  ASYNC_RECORDS, LOCKS_BASE, LOCK_WORDS, MAX_LOCKS, MAX_PARENTS, MAX_THREADS, PARENTS_BASE, THREADS_BASE, THREAD_LOCKS_BASE,
  THREAD_LOCKS_WORDS, THREAD_WORDS, TL_HOLDS, TL_READERS, TL_WAITS, WAIT_ONE, WAIT_WRITER, T_APPENDING, T_APPLIED,
  T_FOLLOWS, T_RECORDS, T_STALE, T_STATE, T_THREAD_ID, T_TICKET, T_WAITING,
} from './layout'

/**
 * The per-thread part of a shared database's control block (./layout.ts): where each thread's
 * slot, each lock's words and each (thread, lock) word lie, a thread's attachment and what it
 * publishes in its slot, and the record of which thread started which (a worker dies with its
 * parent, and is reaped with it). `SharedMemory` (./memory.ts) adds the header's words: the
 * commit word and the append mutex, the ring's head, the snapshot's bookkeeping.
 */
export class ThreadSlots {
  readonly i32: Int32Array
  /** Replicas' published positions ({@link applied}), 8-byte aligned like the BigInt words. */
  readonly #f64: Float64Array

  constructor(control: SharedArrayBuffer) {
    this.i32 = new Int32Array(control)
    this.#f64 = new Float64Array(control)
  }

  /** Word index of a thread slot. */
  thread(slot: number): number {
    return THREADS_BASE + slot * THREAD_WORDS
  }

  /** Word index of a lock slot. */
  lock(slot: number): number {
    return LOCKS_BASE + slot * LOCK_WORDS
  }

  /** Word index of the read grants thread `thread` holds on lock `lock`. */
  readers(lock: number, thread: number): number {
    return THREAD_LOCKS_BASE + thread * THREAD_LOCKS_WORDS + TL_READERS + lock
  }

  /** Word index of the waits thread `thread` has in flight on lock `lock` ({@link WAIT_ONE}, {@link WAIT_WRITER}). */
  waits(lock: number, thread: number): number {
    return THREAD_LOCKS_BASE + thread * THREAD_LOCKS_WORDS + TL_WAITS + lock
  }

  /** Word index of the mask of `thread`'s async wait records whose holder holds lock `lock`. */
  holds(lock: number, thread: number): number {
    return THREAD_LOCKS_BASE + thread * THREAD_LOCKS_WORDS + TL_HOLDS + lock
  }

  /** Word index of async wait record `r` of `thread`: the lock slot its holder waits for, or -1. */
  record(thread: number, r: number): number {
    return this.thread(thread) + T_RECORDS + r
  }

  /** Claims a free thread slot for the calling thread. */
  attachThread(appliedPos: number): number {
    for (let s = 0; s < MAX_THREADS; s++) {
      const base = this.thread(s)
      if (Atomics.compareExchange(this.i32, base + T_STATE, 0, 1) === 0) {
        Atomics.store(this.i32, base + T_THREAD_ID, threadId)
        Atomics.store(this.i32, base + T_WAITING, -1)
        Atomics.store(this.i32, base + T_TICKET, 0)
        for (let r = 0; r < ASYNC_RECORDS; r++) Atomics.store(this.i32, base + T_RECORDS + r, -1)
        for (let lock = 0; lock < MAX_LOCKS; lock++) {
          Atomics.store(this.i32, this.waits(lock, s), 0)
          Atomics.store(this.i32, this.holds(lock, s), 0)
        }
        Atomics.store(this.i32, base + T_STALE, 0)
        Atomics.store(this.i32, base + T_FOLLOWS, 0)
        Atomics.store(this.i32, base + T_APPENDING, 0)
        this.setApplied(s, appliedPos)
        return s
      }
    }
    throw new InvalidStateError(`At most ${MAX_THREADS} threads can attach to one shared database`)
  }

  detachThread(slot: number): void {
    Atomics.store(this.i32, this.thread(slot) + T_STATE, 0)
  }

  isAttached(slot: number): boolean {
    return Atomics.load(this.i32, this.thread(slot) + T_STATE) === 1
  }

  threadIdOf(slot: number): number {
    return Atomics.load(this.i32, this.thread(slot) + T_THREAD_ID)
  }

  /**
   * The log position thread `slot` has applied, as it last published it: a hint, read by the
   * appender that frees ring space (to mark replicas it overtook stale) and by `db.stats()`.
   * A plain Float64 store and load (no `Atomics`, no BigInt: this is written on every append and
   * every catch-up). Nothing depends on it for safety: a replica that was overtaken finds out
   * by itself (the ring's head has passed its position; `SharedLog.read` checks the head after
   * copying), so a late or even torn value costs at most one needless rebuild, or a stats figure.
   */
  applied(slot: number): number {
    return this.#f64[(this.thread(slot) + T_APPLIED) >> 1] as number
  }
  setApplied(slot: number, pos: number): void {
    this.#f64[(this.thread(slot) + T_APPLIED) >> 1] = pos
  }

  isStale(slot: number): boolean {
    return Atomics.load(this.i32, this.thread(slot) + T_STALE) === 1
  }
  setStale(slot: number, stale: boolean): void {
    Atomics.store(this.i32, this.thread(slot) + T_STALE, stale ? 1 : 0)
  }

  /** The lock thread `slot` waits for synchronously (the whole thread blocked), or -1. */
  waitingFor(slot: number): number {
    return Atomics.load(this.i32, this.thread(slot) + T_WAITING)
  }
  setWaitingFor(slot: number, lock: number): void {
    Atomics.store(this.i32, this.thread(slot) + T_WAITING, lock)
  }

  /**
   * Records that thread `child` was started by thread `parent` (it will die with it), in a free
   * pair: pairs are freed when the child is reaped, so a long-lived pool never overwrites a live
   * one. False if every pair is taken.
   */
  recordChild(child: number, parent: number): boolean {
    for (let i = 0; i < MAX_PARENTS; i++) {
      const at = PARENTS_BASE + i * 2
      if (Atomics.compareExchange(this.i32, at, 0, child) === 0) {
        Atomics.store(this.i32, at + 1, parent)
        return true
      }
    }
    return false
  }

  /** Frees the pair of a reaped thread. */
  forgetChild(child: number): void {
    for (let i = 0; i < MAX_PARENTS; i++) {
      const at = PARENTS_BASE + i * 2
      if (Atomics.load(this.i32, at) === child) {
        Atomics.store(this.i32, at + 1, -1) // no parent (thread 0 is the main thread)
        Atomics.store(this.i32, at, 0)
      }
    }
  }

  /** The threads recorded as started by `parent`. */
  childrenOf(parent: number): number[] {
    const out: number[] = []
    for (let i = 0; i < MAX_PARENTS; i++) {
      const at = PARENTS_BASE + i * 2
      const child = Atomics.load(this.i32, at)
      if (child !== 0 && Atomics.load(this.i32, at + 1) === parent) out.push(child)
    }
    return out
  }
}
