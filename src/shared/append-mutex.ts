/*
 * The shared log's append mutex, folded into the commit word (`H_COMMITS`): one compare-and-swap
 * on that word takes it, and one swap both publishes the new tail and lets go. Before, an append
 * took a mutex on a line of its own, stored the commit word on another and swapped the mutex
 * back: three atomic operations on two cache lines, each line moved between the writers' cores
 * on every append (a transfer costs ~150 ns on a 2-core VM: more than the atomics themselves).
 *
 * The word: the count (the log's tail in 8-byte units, modulo 2^30, shifted left by 2) with
 * {@link COMMIT_LOCKED} and {@link COMMIT_SLEEPER} in its low bits. Readers mask them
 * ({@link COMMIT_FLAGS}): a held word still gives the last published tail. Who holds it is in
 * `H_APPENDER` (slot + 1, or 0), on the same line, written by the holder right after the swap
 * that took it and cleared only after the swap that publishes (see {@link unlockAppend}): the
 * reaper frees the word of a dead holder by it, and a thread never waits for a word its own slot
 * holds.
 */
import { LockTimeoutError } from '../errors'
import { takeWhenFree } from './guard'
import { H_APPENDER, H_COMMITS, H_FOLLOWERS } from './layout'

/** Set while a thread holds the append mutex. */
export const COMMIT_LOCKED = 1
/** Set in a held word by a thread that sleeps on it: the release then wakes the sleepers. */
export const COMMIT_SLEEPER = 2
/** The bits of the commit word that are not the count. */
export const COMMIT_FLAGS = 3

/** How errors name the append mutex. */
export const APPEND_MUTEX = "the shared log's append mutex"

/**
 * Takes the append mutex as thread `slot`; returns the count it was taken at (the tail published
 * last: nothing is appended while it is held). `guess` is the count the caller expects (its
 * replica's): when right, the word is taken with one compare-and-swap and no load before it, which
 * would fetch its cache line shared and then need it again exclusive. Gives up with
 * `LockTimeoutError` after `timeoutMs`, and at once if `slot` holds it already.
 */
export function lockAppend(i32: Int32Array, slot: number, timeoutMs: number, guess: number): number {
  // A count as the word holds it (an Int32 with its flags clear), whatever the guess (NaN: none).
  const expected = guess & ~COMMIT_FLAGS
  const seen = Atomics.compareExchange(i32, H_COMMITS, expected, expected | COMMIT_LOCKED)
  if (seen !== expected && !tryLock(i32, seen)) return lockAppendSlow(i32, slot, timeoutMs)
  // Nothing between the swap that took the word and this store can end the thread, so a dead
  // thread that held the mutex is always named here for the reaper. A terminated worker stops at
  // a call's entry (a built-in's too, such as Atomics.load) or at a loop's back edge, never at a
  // return or in straight-line code, and there is no call or loop here (append-termination.test.ts).
  i32[H_APPENDER] = slot + 1
  return seen & ~COMMIT_FLAGS
}

/** Takes a free word whose value is `word`. */
function tryLock(i32: Int32Array, word: number): boolean {
  return (word & COMMIT_LOCKED) === 0 && Atomics.compareExchange(i32, H_COMMITS, word, word | COMMIT_LOCKED) === word
}

function lockAppendSlow(i32: Int32Array, slot: number, timeoutMs: number): number {
  if (Atomics.load(i32, H_APPENDER) === slot + 1) {
    throw new LockTimeoutError(`This thread already holds ${APPEND_MUTEX}; waiting for it would never end`)
  }
  // Spins, then marks the word and sleeps on it, as the guards do; the release wakes the sleepers.
  const word = takeWhenFree(i32, H_COMMITS, COMMIT_LOCKED, COMMIT_LOCKED, COMMIT_SLEEPER, timeoutMs, APPEND_MUTEX)
  // Stored here, not in a function called for it: a call's entry is where a terminated worker
  // stops, and stopping there would leave a held word that names no holder (see lockAppend).
  i32[H_APPENDER] = slot + 1
  return word & ~COMMIT_FLAGS
}

/**
 * Lets go of the append mutex, publishing count `count` (the new tail's, or the one it was
 * taken at if nothing was appended): one swap. Wakes the threads that sleep on the word, and
 * those that follow the log while idle (see `SharedMemory.commitsChanged`), only if there are any:
 * their count is read plainly, holding the mutex.
 */
export function unlockAppend(i32: Int32Array, count: number): void {
  const followers = i32[H_FOLLOWERS] as number
  // The swap publishes the count with the word still held and its holder still named: a thread
  // terminated at the swap's entry (a built-in call: a stop point) is freed by the reaper. Had the
  // name been cleared first, it would have left a held word naming nobody, and every later append
  // would time out. The two stores after it are no call, so nothing ends the thread between them:
  // the name is cleared, then the word let go. A sleeper that marks the word between the swap and
  // the last store loses its mark and sleeps one slice (SLEEP_MS of ./guard.ts) instead of being woken.
  const sleepers = Atomics.exchange(i32, H_COMMITS, count | COMMIT_LOCKED) & COMMIT_SLEEPER
  i32[H_APPENDER] = 0
  i32[H_COMMITS] = count
  if (sleepers !== 0 || followers > 0) Atomics.notify(i32, H_COMMITS)
}

/**
 * Frees the append mutex if dead thread `deadSlot` holds it, keeping the count (its entry, never
 * published, is overwritten by the next append), and wakes the sleepers. `H_APPENDER` names the
 * dead slot only while it holds the word (it is cleared right before the store that lets go, with
 * no call between them), and taking
 * that name back with a compare-and-swap lets one reaper only go on. Nobody else lets go of the
 * word meanwhile, but sleepers may mark it: hence the loop.
 */
export function recoverAppend(i32: Int32Array, deadSlot: number): boolean {
  if (Atomics.compareExchange(i32, H_APPENDER, deadSlot + 1, 0) !== deadSlot + 1) return false
  for (;;) {
    const word = Atomics.load(i32, H_COMMITS)
    if (Atomics.compareExchange(i32, H_COMMITS, word, word & ~COMMIT_FLAGS) === word) break
  }
  Atomics.notify(i32, H_COMMITS)
  return true
}

/** Whether the append mutex is held (by any thread). */
export function appendLocked(i32: Int32Array): boolean {
  return (Atomics.load(i32, H_COMMITS) & COMMIT_LOCKED) !== 0
}
