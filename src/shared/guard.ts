/**
 * A tiny spin guard in shared memory: protects a few words for a few instructions. The word
 * holds the owner's thread slot + 1, so a guard left by a terminated thread can be recovered.
 */
export function guardLock(i32: Int32Array, index: number, slot: number): void {
  let spins = 0
  while (Atomics.compareExchange(i32, index, 0, slot + 1) !== 0) {
    // Critical sections are a handful of stores; sleep briefly only if the holder was descheduled.
    if (++spins > 4000) Atomics.wait(i32, index, Atomics.load(i32, index), 0.05)
  }
}

/** Releases a guard taken with {@link guardLock}. No notify: a contender sleeps 50 µs at most. */
export function guardUnlock(i32: Int32Array, index: number): void {
  Atomics.store(i32, index, 0)
}

/** Releases a guard only if a given (dead) slot holds it. */
export function guardRecover(i32: Int32Array, index: number, deadSlot: number): boolean {
  const recovered = Atomics.compareExchange(i32, index, deadSlot + 1, 0) === deadSlot + 1
  if (recovered) Atomics.notify(i32, index)
  return recovered
}
