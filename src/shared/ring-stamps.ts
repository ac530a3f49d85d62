/*
 * Stamps of the thread rings' entries (./rings.ts). A seal puts the entries of several rings into
 * the log in one order, which listeners hear as the commit order: it must follow every "happens before" between ring writes of
 * different threads (thread B's ring write, then a message to thread A, then A's ring write: B's
 * first). Each entry carries a stamp (Lamport's clock): past its ring's last one and past the
 * last stamp of every other ring as this writer reads it (`R_STAMP`, written before the tail's
 * store that publishes the entry). A write that happens after another ring's entry reads that
 * entry's stamp or a later one, so it gets a greater stamp, and a seal merges the rings' entries
 * by stamp (./ring-seal.ts). Sealing ring after ring put B's entry after A's: a listener heard
 * A's commit first. Stamps count modulo 2^29, so they are compared only within one seal's window:
 * a seal sets every ring's `R_STAMP` to the greatest (all entries before are in the log), and a
 * writer stamps past every ring's `R_STAMP`, its own included (no older value of its own is kept:
 * a ring idle for 2^28 writes of the others would have looked ahead of them).
 */
import { RINGS_BASE, RING_SLOTS, RING_WORDS, R_STAMP } from './layout'

/** Stamps count modulo 2^29: a ring entry's header word holds its stamp shifted left by 3 and its ring. */
export const STAMP_MASK = (1 << 29) - 1

/** `a - b` for stamps (modulo 2^29): negative when `a` is before `b`. */
export function stampDiff(a: number, b: number): number {
  return ((a - b) << 3) >> 3
}

/** Word index of ring `r`'s last stamp. */
function stampWord(r: number): number {
  return RINGS_BASE + r * RING_WORDS + R_STAMP
}

/** A stamp for ring `own`'s next entry: past every ring's (in `mask`, `own` among them) last one as published or sealed. */
export function nextStamp(i32: Int32Array, own: number, mask: number): number {
  let s = i32[stampWord(own)] as number
  for (let m = mask & ~(1 << own); m !== 0; m &= m - 1) {
    const q = 31 - Math.clz32(m & -m)
    const o = i32[stampWord(q)] as number
    if (stampDiff(o, s) > 0) s = o
  }
  return (s + 1) & STAMP_MASK
}

/**
 * Sets every ring's (in `mask`) last stamp to the greatest (all their entries are in the log
 * now: a seal's last step): the next entries are stamped past it, and every stamp compared stays
 * within one seal's window.
 */
export function floorStamps(i32: Int32Array, mask: number): void {
  let top = -1
  for (let r = 0; r < RING_SLOTS; r++) {
    if ((mask & (1 << r)) === 0) continue
    const s = Atomics.load(i32, stampWord(r))
    if (top < 0 || stampDiff(s, top) > 0) top = s
  }
  for (let r = 0; r < RING_SLOTS; r++) if ((mask & (1 << r)) !== 0) Atomics.store(i32, stampWord(r), top)
}
