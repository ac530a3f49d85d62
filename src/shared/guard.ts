import { LockTimeoutError } from '../errors'

/** Loads spent on a taken guard before sleeping on it: its holder runs a handful of stores. */
const SPINS = 4000

/**
 * Takes a tiny spin guard in shared memory (a few words, held for a few instructions, or the
 * append mutex, held for one append). The word holds the owner's thread slot + 1, so a guard
 * left by a terminated thread can be recovered. Gives up with `LockTimeoutError` after
 * `timeoutMs`, and at once if this very slot already holds it: a thread never waits on itself.
 * `reentrySafe` is for the reaper, whose pseudo-slot several threads may use at once.
 */
export function guardLock(i32: Int32Array, index: number, slot: number, timeoutMs: number, what: string, reentrySafe = false): void {
  if (Atomics.compareExchange(i32, index, 0, slot + 1) !== 0) guardLockSlow(i32, index, slot, timeoutMs, what, reentrySafe)
}

function guardLockSlow(i32: Int32Array, index: number, slot: number, timeoutMs: number, what: string, reentrySafe: boolean): void {
  if (!reentrySafe && Atomics.load(i32, index) === slot + 1) {
    throw new LockTimeoutError(`This thread already holds ${what}; waiting for it would never end`)
  }
  let deadline = 0
  for (let spins = 0; ; spins++) {
    // Read until the word looks free, and only then try to take it: a failed compare-and-swap
    // takes the word's cache line from the holder, which is writing to it (or next to it).
    if (Atomics.load(i32, index) === 0 && Atomics.compareExchange(i32, index, 0, slot + 1) === 0) return
    if (spins < SPINS) continue
    const now = Date.now()
    if (deadline === 0) deadline = now + timeoutMs
    else if (now >= deadline) throw new LockTimeoutError(`Timed out after ${timeoutMs} ms waiting for ${what} (held by another thread)`)
    // Sleep briefly only if the holder was descheduled (no notify on release: 50 µs at most).
    Atomics.wait(i32, index, Atomics.load(i32, index), 0.05)
  }
}

/** Releases a guard taken with {@link guardLock}. */
export function guardUnlock(i32: Int32Array, index: number): void {
  Atomics.store(i32, index, 0)
}

/** Releases a guard only if a given (dead) slot holds it. */
export function guardRecover(i32: Int32Array, index: number, deadSlot: number): boolean {
  const recovered = Atomics.compareExchange(i32, index, deadSlot + 1, 0) === deadSlot + 1
  if (recovered) Atomics.notify(i32, index)
  return recovered
}
