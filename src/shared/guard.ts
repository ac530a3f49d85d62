import { LockTimeoutError } from '../errors'

/**
 * Loads spent on a taken guard before sleeping on it (a few microseconds): its holder runs a
 * handful of stores, or one append. Past that, the holder is most likely off its core (another
 * thread or process runs there), and spinning would only keep the core from it.
 */
const SPINS = 500
/**
 * Set in a held guard's word by a thread that sleeps on it: the release then wakes the sleepers.
 * Above every holder's value (slot + 1: at most `MAX_THREADS` + 1, the reaper's pseudo-slot).
 */
export const GUARD_SLEEPER = 1 << 16
/** Longest single sleep on a guard (a safety net: a release wakes the sleepers). */
const SLEEP_MS = 10

/**
 * Takes a tiny spin guard in shared memory (a few words, held for a few instructions, or the
 * append mutex, held for one append). The word holds the owner's thread slot + 1, so a guard
 * left by a terminated thread can be recovered, plus {@link GUARD_SLEEPER} while a thread sleeps
 * on it. Gives up with `LockTimeoutError` after `timeoutMs`, and at once if this very slot already
 * holds it: a thread never waits on itself. `reentrySafe` is for the reaper, whose pseudo-slot
 * several threads may use at once.
 */
export function guardLock(i32: Int32Array, index: number, slot: number, timeoutMs: number, what: string, reentrySafe = false): void {
  if (!guardTryLock(i32, index, slot)) guardLockSlow(i32, index, slot, timeoutMs, what, reentrySafe)
}

function guardLockSlow(i32: Int32Array, index: number, slot: number, timeoutMs: number, what: string, reentrySafe: boolean): void {
  if (!reentrySafe && (Atomics.load(i32, index) & ~GUARD_SLEEPER) === slot + 1) {
    throw new LockTimeoutError(`This thread already holds ${what}; waiting for it would never end`)
  }
  takeWhenFree(i32, index, -1, slot + 1, GUARD_SLEEPER, timeoutMs, what)
}

/**
 * The wait of a guard or of the append mutex (./append-mutex.ts) found taken: until its `busy`
 * bits are clear, then sets `hold` in it with a compare-and-swap; returns the word it took. Spins
 * {@link SPINS} loads, then marks the word with `sleeper` and sleeps on it, with `timeoutMs` as
 * deadline (`LockTimeoutError`).
 */
export function takeWhenFree(i32: Int32Array, index: number, busy: number, hold: number, sleeper: number, timeoutMs: number, what: string): number {
  for (let spins = 0; spins < SPINS; spins++) {
    // Read until the word looks free, and only then try to take it: a failed compare-and-swap
    // takes the word's cache line from the holder, which is writing to it (or next to it).
    const word = Atomics.load(i32, index)
    if ((word & busy) === 0 && Atomics.compareExchange(i32, index, word, word | hold) === word) return word
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const word = Atomics.load(i32, index)
    if ((word & busy) === 0) {
      if (Atomics.compareExchange(i32, index, word, word | hold) === word) return word
      continue
    }
    const left = deadline - Date.now()
    if (left <= 0) throw new LockTimeoutError(`Timed out after ${timeoutMs} ms waiting for ${what} (held by another thread)`)
    // Mark the word, then sleep while it holds the mark. The release swaps the word for one
    // without the mark and, finding the mark, wakes every sleeper: if the swap came first, the
    // wait finds the word changed and returns at once; if it came after the wait queued, its
    // notify wakes the wait (the compare and the queueing, and the notify, are one critical
    // section of the waiter list). A mark that fails (the word changed) is looked at again.
    const marked = word | sleeper
    if (word === marked || Atomics.compareExchange(i32, index, word, marked) === word) {
      Atomics.wait(i32, index, marked, Math.min(left, SLEEP_MS))
    }
  }
}

/**
 * Releases a guard taken with {@link guardLock}: one swap (as costly as a store), and a notify
 * only if a thread marked the word to sleep on it. A woken sleeper that loses the guard to
 * another thread marks the word again.
 */
export function guardUnlock(i32: Int32Array, index: number): void {
  if (Atomics.exchange(i32, index, 0) >= GUARD_SLEEPER) Atomics.notify(i32, index)
}

/** Releases a guard only if a given (dead) slot holds it (with or without sleepers), and wakes its sleepers. */
export function guardRecover(i32: Int32Array, index: number, deadSlot: number): boolean {
  const held = deadSlot + 1
  const recovered =
    Atomics.compareExchange(i32, index, held, 0) === held || Atomics.compareExchange(i32, index, held | GUARD_SLEEPER, 0) === (held | GUARD_SLEEPER)
  if (recovered) Atomics.notify(i32, index)
  return recovered
}

/** Takes guard `index` for thread `slot` if it is free, without waiting; whether it did. */
export function guardTryLock(i32: Int32Array, index: number, slot: number): boolean {
  return Atomics.compareExchange(i32, index, 0, slot + 1) === 0
}

/** Written by {@link pauseFor} so that its loop is not optimized away. */
let pauseSink = 0
/** Loop turns (~1 ns each) between two reads of the clock in {@link pauseFor} (a read costs ~100 ns here). */
const TURNS_PER_LOOK = 128

/**
 * A wait of at least `ns` nanoseconds, measured on the monotonic clock, in a loop that touches no
 * shared memory: a thread that backs off from a taken word leaves its cache line in the holder's
 * core meanwhile. In time rather than in loop turns: a turn's length follows the speed of the
 * thread's vCPU at that moment (here 1.5–3× slower for whole seconds), not the holder's.
 */
export function pauseFor(ns: number): void {
  const until = performance.now() + ns / 1e6
  let x = pauseSink
  do for (let i = 0; i < TURNS_PER_LOOK; i++) x = (x + i) | 0
  while (performance.now() < until)
  pauseSink = x
}
