/*
 * The shared log's append mutex, folded into the commit word (`H_COMMITS`): one compare-and-swap
 * on that word takes it, and one swap both publishes the new tail and lets go. Before, an append
 * took a mutex on a line of its own, stored the commit word on another and swapped the mutex
 * back: three atomic operations on two cache lines, each line moved between the writers' cores
 * on every append (a transfer costs ~150 ns on a 2-core VM: more than the atomics themselves).
 *
 * The word: the count (the log's tail in 8-byte units, modulo 2^30, shifted left by 2) with
 * {@link COMMIT_LOCKED} and {@link COMMIT_SLEEPER} in its low bits. Readers mask them
 * ({@link COMMIT_FLAGS}): a held word still gives the last published tail. Every change of the
 * word is an `Atomics` operation. Who holds it is told by a flag in each thread's own slot
 * (`T_APPENDING`), which only that thread writes while it lives: set right after the
 * compare-and-swap that takes the word, cleared right after the swap that lets go, with no call
 * in between either pair. V8 ends a terminated worker only at a call's entry (a built-in's, such
 * as `Atomics.exchange`, included) or a loop's back edge, never at a return or in straight-line
 * code, so wherever a thread dies its flag is set exactly when it holds the word. The reaper frees
 * the word of a dead thread whose flag is set (and of no other: a live holder is never freed),
 * and a thread never waits for the word its own flag says it holds
 * (tests/workers/append-termination.test.ts stops a worker at each of these points). A thread
 * that finds the word held backs off first ({@link BACKOFF_PAUSES}), holding nothing meanwhile.
 */
import { LockTimeoutError } from '../errors'
import { pauseFor, takeWhenFree } from './guard'
import { H_COMMITS, H_FOLLOWERS, THREADS_BASE, THREAD_WORDS, T_APPENDING } from './layout'

/** Set while a thread holds the append mutex. */
export const COMMIT_LOCKED = 1
/** Set in a held word by a thread that sleeps on it: the release then wakes the sleepers. */
export const COMMIT_SLEEPER = 2
/** The bits of the commit word that are not the count. */
export const COMMIT_FLAGS = 3

/** How errors name the append mutex. */
export const APPEND_MUTEX = "the shared log's append mutex"

/** Word index of thread `slot`'s "holds the append mutex" flag (1 while it holds it, else 0). */
export function appendingFlag(slot: number): number {
  return THREADS_BASE + slot * THREAD_WORDS + T_APPENDING
}

/**
 * Takes the append mutex as thread `slot`; returns the count it was taken at (the tail published
 * last: nothing is appended while it is held). `guess` is the count the caller expects (its
 * replica's): when right, the word is taken with one compare-and-swap and no load before it, which
 * would fetch its cache line shared and then need it again exclusive. Gives up with
 * `LockTimeoutError` after `timeoutMs`, and at once if `slot` holds it already.
 */
export function lockAppend(i32: Int32Array, slot: number, timeoutMs: number, guess: number): number {
  const count = tryLockAppend(i32, slot, guess)
  return count !== APPEND_HELD ? count : lockAppendSlow(i32, appendingFlag(slot), timeoutMs, true)
}

/** {@link tryLockAppend}'s answer when another thread holds the mutex (never a count: counts have their flag bits clear). */
export const APPEND_HELD = -1

/**
 * Takes the append mutex as thread `slot` if it is free, as {@link lockAppend} does, without
 * waiting: the count it was taken at, or {@link APPEND_HELD} if a thread holds it (this one too).
 */
export function tryLockAppend(i32: Int32Array, slot: number, guess: number): number {
  // Computed before the take: a call between the take and the flag's store could end the thread.
  const flag = THREADS_BASE + slot * THREAD_WORDS + T_APPENDING
  // A count as the word holds it (an Int32 with its flags clear), whatever the guess (NaN: none).
  const expected = guess & ~COMMIT_FLAGS
  const seen = Atomics.compareExchange(i32, H_COMMITS, expected, expected | COMMIT_LOCKED)
  if (seen !== expected && !tryLock(i32, seen)) return APPEND_HELD
  // No call or loop between the take and this store (a return is none either): a thread that
  // dies holding the word always has its flag set, for the reaper.
  i32[flag] = 1
  return seen & ~COMMIT_FLAGS
}

/**
 * Takes the append mutex as thread `slot` once it is free, for a caller that backed off already
 * (see {@link BACKOFF_PAUSES}): spins, then sleeps, with `timeoutMs` as deadline.
 */
export function waitAppend(i32: Int32Array, slot: number, timeoutMs: number): number {
  return lockAppendSlow(i32, appendingFlag(slot), timeoutMs, false)
}

/** Takes a free word whose value is `word`. */
function tryLock(i32: Int32Array, word: number): boolean {
  return (word & COMMIT_LOCKED) === 0 && Atomics.compareExchange(i32, H_COMMITS, word, word | COMMIT_LOCKED) === word
}

/**
 * Pauses of a writer that found the append mutex held, before it looks at the word again: this
 * many, each twice the one before (1.2, 2.4, 4.8 µs at first, measured in time: `pauseFor`). Then
 * it spins and sleeps as the guards do (`takeWhenFree`). The first pause adapts to the holder's
 * bursts, per thread ({@link backedOff}).
 *
 * Why: two writers that spin on the word fall into lockstep, one append each in turn. Each load
 * of a spinner pulls the word's cache line from the holder's core, so that the holder's release,
 * and the next take, each wait for a transfer (~150 ns on a 2-core VM): with the other's entry
 * read, ~4 of them per append (1.7 M appends/s from two workers in that regime, against ~3 M
 * from one). A writer that leaves the line alone for a while lets the holder append several
 * times in a row with the line in its own core (a burst); the one that paused then takes its
 * turn at the holder's next release, and the other, finding it held, pauses in its turn. Each
 * thread's wait stays bounded: after the pauses, it waits as before, with its lock timeout.
 * A writer of one record pauses applying the entries published meanwhile (`Replica.appendField`).
 */
export const BACKOFF_PAUSES = 3
/** The first of the {@link BACKOFF_PAUSES} to begin with, and its bounds, in nanoseconds. */
const FIRST_PAUSE_NS = 1200
const FIRST_PAUSE_MIN_NS = 300
const FIRST_PAUSE_MAX_NS = 9600
/** This thread's first pause now (module state is per thread: each worker has its own). */
let firstPauseNs = FIRST_PAUSE_NS

/** Pause number `pause` (from 0) of the {@link BACKOFF_PAUSES}: each twice the one before. */
export function backOff(pause: number): void {
  pauseFor(firstPauseNs << pause)
}

/**
 * Adapts this thread's first pause once a backoff took the word, after pause number `pause`
 * ({@link BACKOFF_PAUSES}: it went on to spin): a quarter shorter when the first look found it
 * free, half longer when the holder's burst outlasted it; within 0.3–9.6 µs. So the pause follows
 * the other writer's bursts (a writer that appends on and on is left to it longer; one that
 * appends now and then is waited for less).
 */
export function backedOff(pause: number): void {
  firstPauseNs =
    pause === 0 ? Math.max(FIRST_PAUSE_MIN_NS, firstPauseNs - (firstPauseNs >> 2)) : Math.min(FIRST_PAUSE_MAX_NS, firstPauseNs + (firstPauseNs >> 1))
}

function lockAppendSlow(i32: Int32Array, flag: number, timeoutMs: number, backoff: boolean): number {
  if (i32[flag] === 1) {
    throw new LockTimeoutError(`This thread already holds ${APPEND_MUTEX}; waiting for it would never end`)
  }
  // Backs off (see BACKOFF_PAUSES): holding nothing, a thread ended in a pause leaves nothing behind.
  for (let pause = 0; backoff && pause < BACKOFF_PAUSES; pause++) {
    backOff(pause)
    const word = Atomics.load(i32, H_COMMITS)
    if (tryLock(i32, word)) {
      // As in lockAppend: no call between the take and this store.
      i32[flag] = 1
      backedOff(pause)
      return word & ~COMMIT_FLAGS
    }
  }
  if (backoff) backedOff(BACKOFF_PAUSES)
  // Spins, then marks the word and sleeps on it, as the guards do; the release wakes the sleepers.
  const word = takeWhenFree(i32, H_COMMITS, COMMIT_LOCKED, COMMIT_LOCKED, COMMIT_SLEEPER, timeoutMs, APPEND_MUTEX)
  // Stored here, not in a function called for it: a call's entry is where a terminated worker
  // stops, and stopping there would leave a held word with no flag set (see lockAppend).
  i32[flag] = 1
  return word & ~COMMIT_FLAGS
}

/**
 * Lets go of the append mutex held by thread `slot`, publishing count `count` (the new tail's, or
 * the one it was taken at if nothing was appended): one swap, which also clears a sleeper's mark.
 * Wakes the threads that sleep on the word, and those that follow the log while idle (see
 * `SharedMemory.commitsChanged`), only if there are any: their count is read plainly, holding the
 * mutex.
 */
export function unlockAppend(i32: Int32Array, slot: number, count: number): void {
  const flag = THREADS_BASE + slot * THREAD_WORDS + T_APPENDING
  const followers = i32[H_FOLLOWERS] as number
  // A thread ended at the swap's entry still holds the word, its flag set: the reaper frees it
  // (its entry, unpublished, is overwritten). Once the swap returns, the flag is cleared before
  // any call: a thread ended later has its flag clear, and the reaper leaves the word (which
  // another thread may hold by then) alone.
  const sleepers = Atomics.exchange(i32, H_COMMITS, count) & COMMIT_SLEEPER
  i32[flag] = 0
  if (sleepers !== 0 || followers > 0) Atomics.notify(i32, H_COMMITS)
}

/**
 * Frees the append mutex if dead thread `deadSlot` holds it (its flag is set), keeping the count
 * (its entry, never published, is overwritten by the next append); true if it did. Taking the
 * flag back with a compare-and-swap lets one reaper only go on. Nobody else lets go of the word
 * meanwhile, but sleepers may mark it: hence the loop. Wakes the word's sleepers and followers
 * either way: a thread that died between its release's swap and its notify woke nobody.
 */
export function recoverAppend(i32: Int32Array, deadSlot: number): boolean {
  const held = Atomics.compareExchange(i32, appendingFlag(deadSlot), 1, 0) === 1
  if (held) {
    for (;;) {
      const word = Atomics.load(i32, H_COMMITS)
      if (Atomics.compareExchange(i32, H_COMMITS, word, word & ~COMMIT_FLAGS) === word) break
    }
  }
  Atomics.notify(i32, H_COMMITS)
  return held
}

/** Whether the append mutex is held (by any thread). */
export function appendLocked(i32: Int32Array): boolean {
  return (Atomics.load(i32, H_COMMITS) & COMMIT_LOCKED) !== 0
}
