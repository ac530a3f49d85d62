/*
 * Per-thread express rings. A thread in a slot below `RING_SLOTS` writes its express updates (an
 * update by key of one field, see src/table/express.ts) to a single-producer ring of its own in
 * the control block, publishing each by a store of the ring's tail on a line of its own: no
 * read-modify-write of a shared word, no line that another writer writes. Another thread applies
 * a ring's published entries from the ring (`RingReader`, ./ring-read.ts) for freshness, and every
 * holder of the append mutex first seals every ring (`sealRings`, ./ring-seal.ts): copies its
 * published entries into the log as one entry per chunk, so the log stays the whole truth
 * (snapshots, stale replicas rebuilding, the listeners' order).
 *
 * Why no entry escapes the log's order (Dekker, every access below `Atomics`, sequentially
 * consistent): a writer stores its ring's writing flag, then reads the commit word; a holder of
 * the append mutex takes the commit word, then reads every flag. Either the writer sees the word
 * taken, or moved from the count its replica stands at, and writes nothing; or the holder sees the
 * flag and waits for it to clear, then seals the entry. So an entry is in the log before every
 * later entry of the mutex's holders, and is never planned on a state that another thread's entry
 * changed since: the record's claim (below) keeps another writer's ring from holding it, and
 * everything else moves the commit word.
 *
 * Sealed positions (`R_SEALED`, per ring): the log as published holds the ring's entries up to
 * there, so its writer may write over the ring below it, and the next seal starts there. A holder
 * stores them only after the release that publishes its seal (`markSealed`, ./ring-seal.ts),
 * never ahead of the log: a holder that dies before (V8 ends a terminated worker at any call's
 * entry) leaves them where they were, the reaper frees the mutex at the count it was taken at, and
 * the next holder seals the same entries again. A seal may thus repeat entries of an earlier one
 * (also when a holder takes the mutex between another's release and its store): readers skip, by
 * ring position, those they have (tests/workers/seal-termination.test.ts stops a sealer at each step).
 *
 * Claims: per hash of (table, key), the slot + 1 of the thread that may have written that record
 * to its ring. A ring write needs the claim to be this thread's, or takes a free one with a
 * compare-and-swap; another thread's claim sends the write through the append mutex, which seals
 * that thread's entries first. A write through the mutex marks the claim as that thread's
 * pending one; its second write in a row through the mutex (no other thread wrote the record
 * meanwhile) makes the claim its ring's (see `Rings.takeClaim`). So a record two threads write
 * in turn stays on the mutex path (a hand-off between rings would cost a seal each time), and one
 * that changed hands for good moves to its new writer's ring. Claims are hints for speed: a hash
 * shared by two records only sends their writes through the mutex.
 *
 * Stamps (the order a seal puts several rings' entries in): ./ring-stamps.ts.
 *
 * Bare reads (a `get` with neither lock nor catch-up) look at one more word than the commit word:
 * `H_SEALED_AT`, the count at which every ring was last sealed, or `RINGS_LIVE`. Every holder of
 * the append mutex seals the rings and, as it lets go, stores the count it publishes there; a ring
 * writer stores `RINGS_LIVE` there (if it is not so already) after its commit word's load, before
 * the store that publishes its entry. A read that happens after that entry's publication reads
 * `RINGS_LIVE` or a later holder's store (happens-before consistency on one word), and a later
 * holder sealed the entry and published a count past the reader's (counts do not repeat). So a
 * reader whose settled count equals both words has every ring entry; the word is written once
 * per append and once per ring write after one, and read on the commit word's line. While it
 * says `RINGS_LIVE`, a reader looks at the rings' tails (`current`, plainly, as `Replica.current`),
 * and one that finds nothing new a while seals them (`Replica.quietRead`), so that reads go back
 * to the one look once the writers are idle.
 */
import {
  CLAIMS, CLAIMS_BASE, H_COMMITS, H_FOLLOWERS, H_RINGS_MASK, H_SEALED_AT, RINGS_BASE, RINGS_LIVE, RING_BYTES, RING_CTRL_WORDS, RING_SLOTS,
  RING_UNITS, RING_WORDS, R_SEALED, R_STAMP, R_TAIL,
} from './layout'
import { nextStamp } from './ring-stamps'
import type { SharedMemory } from './memory'
import type { PatchWriter } from '../values/binary-shapes'
import type { Key, Rec } from '../values/types'

export { STAMP_MASK, stampDiff } from './ring-stamps'

/** A ring entry's header (as the log's): payload length, then its stamp shifted left by 3 and its ring (see the file's comment). */
export const RING_HEADER = 8
/** The header of a skip to the ring's start (an entry would not fit before its end). */
export const RING_WRAP = 0xffffffff
/** Most bytes one ring entry may take (header included); larger ones go through the log. */
export const RING_ROOM = 4096
export const ROOM_UNITS = RING_ROOM / 8
/** A writer seals its ring once this many units are published and not sealed (half the ring). */
const SEAL_AT = RING_UNITS / 2
/** Own writes between two looks at the other rings (a look moves their tails' lines). */
const LOOK_EVERY = 16

/** Word index of ring `r`'s control words. */
export function ringCtl(r: number): number {
  return RINGS_BASE + r * RING_WORDS
}
/** Byte offset, in the control block, of ring `r`'s first byte. */
export function ringBase(r: number): number {
  return (ringCtl(r) + RING_CTRL_WORDS) * 4
}
/**
 * Ring positions are 8-byte units modulo 2^31, as signed 31-bit integers ({@link norm}): the tail
 * word holds one shifted left by one, with {@link WRITING} in its low bit.
 */
export function norm(x: number): number {
  return (x << 1) >> 1
}
/** The writing flag in a ring's tail word. */
export const WRITING = 1
/** The position a ring's tail word publishes. */
export function tailOf(word: number): number {
  return word >> 1
}
/** Byte offset within a ring of position `pos`. */
export function ringOff(pos: number): number {
  return (pos & (RING_UNITS - 1)) * 8
}
/** `a - b` in ring units (positions wrap at 2^31 units): negative when `a` is before `b`. */
export function ringDiff(a: number, b: number): number {
  return ((a - b) << 1) >> 1
}

/** A claim's value while its record's last write went through the mutex: this plus the writer's slot + 1. */
export const PENDING = 0x10000

/** FNV-1a of a table's name: the part of a claim's hash that a table's express path keeps. */
export function tableHash(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  return h
}

/** The claim slot of record `key` of the table whose {@link tableHash} is `th`. */
export function claimSlot(th: number, key: Key): number {
  let h: number
  if (typeof key === 'number') {
    h = (key | 0) ^ ((key / 4294967296) | 0)
  } else {
    h = 0x811c9dc5
    const s = String(key)
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  }
  return (Math.imul(h ^ th, 0x9e3779b1) >>> 16) & (CLAIMS - 1)
}

/**
 * Bytes published in the rings and not sealed into the log yet (`db.stats()`: part of every
 * replica's lag, as the log reckons it).
 */
export function unsealedBytes(i32: Int32Array): number {
  const mask = Atomics.load(i32, H_RINGS_MASK)
  let units = 0
  for (let r = 0; r < RING_SLOTS; r++) {
    if ((mask & (1 << r)) !== 0) units += Math.max(0, ringDiff(tailOf(Atomics.load(i32, ringCtl(r) + R_TAIL)), Atomics.load(i32, ringCtl(r) + R_SEALED)))
  }
  return units * 8
}

/** Off only in tests of the express path through the append mutex (the ring path is taken first otherwise). */
let ringWrites = true

/** @internal Turns ring writes on or off in this thread (tests). */
export function setRingWrites(on: boolean): void {
  ringWrites = on
}

/** A thread's side of the rings: how far its replica has each ring, and its own ring's writer. */
export class Rings {
  readonly i32: Int32Array
  readonly bytes: Uint8Array
  readonly view: DataView
  /** This thread's ring, or -1 (its slot has none). */
  readonly own: number
  readonly slot: number
  /** Per ring: the position up to which this replica has its entries (from the ring or from a seal). */
  readonly at = new Int32Array(RING_SLOTS)
  #writes = 0

  constructor(mem: SharedMemory, slot: number) {
    this.i32 = mem.i32
    this.bytes = new Uint8Array(mem.buffers.control)
    this.view = new DataView(mem.buffers.control)
    this.slot = slot
    this.own = slot < RING_SLOTS ? slot : -1
    if (this.own >= 0) this.#sealed = Atomics.load(this.i32, ringCtl(this.own) + R_SEALED)
  }

  /**
   * True when no ring has a published entry that this replica lacks: plain reads (the mask of
   * rings ever written, then each one's tail), for "anything new?" checks that are followed, when
   * they say no, by a catch-up that reads with `Atomics` (the same argument as `Replica.current`).
   */
  current(): boolean {
    const mask = this.i32[H_RINGS_MASK] as number
    return mask === 0 || this.allAt(mask)
  }

  /** {@link current} once the mask (`mask`, not 0) was read: one plain load per ring ever written. */
  allAt(mask: number): boolean {
    const i32 = this.i32
    const at = this.at
    for (let m = mask; m !== 0; m &= m - 1) {
      const r = 31 - Math.clz32(m & -m)
      if (tailOf(i32[ringCtl(r) + R_TAIL] as number) !== at[r]) return false
    }
    return true
  }

  /** {@link current} with `Atomics` loads (before a catch-up decides it has nothing to read). */
  currentAtomic(): boolean {
    const mask = Atomics.load(this.i32, H_RINGS_MASK)
    if (mask === 0) return true
    for (let r = 0; r < RING_SLOTS; r++) if ((mask & (1 << r)) !== 0 && tailOf(Atomics.load(this.i32, ringCtl(r) + R_TAIL)) !== this.at[r]) return false
    return true
  }

  /**
   * Writes the patch `write` makes of record `key` (`before` → `after`) to this thread's ring and
   * publishes it, if: the commit word is `seen` (unlocked, nothing appended since this replica
   * caught up), nobody follows the log (their waits end on commit-word changes only), no other
   * thread holds `lock`, the record's claim (`claim`, see {@link claimSlot}) is this thread's or
   * free, the ring has room (sealed far enough), and the entry fits. False, with nothing
   * published, otherwise.
   */
  write(seen: number, lock: { heldElsewhere(): boolean }, claim: number, write: PatchWriter, key: Key, before: Rec, after: Rec): boolean {
    const own = this.own
    if (own < 0 || !ringWrites) return false
    const i32 = this.i32
    const ctl = ringCtl(own)
    const bit = 1 << own
    // Before the flag: a holder of the mutex that reads the flags reads the mask first.
    if (((i32[H_RINGS_MASK] as number) & bit) === 0) Atomics.or(i32, H_RINGS_MASK, bit)
    const tail = this.at[own] as number
    // This replica has the ring whole (a thread new in this slot may not, yet): only this thread
    // writes the word, which it stored last.
    if (i32[ctl + R_TAIL] !== tail << 1 || !this.mayClaim(claim)) return false
    // The flag (the tail as it stands, and the low bit): then the commit word, in that order.
    Atomics.store(i32, ctl + R_TAIL, (tail << 1) | WRITING)
    let start = tail
    let off = ringOff(tail)
    if (off + RING_ROOM > RING_BYTES) {
      start = norm(tail + (RING_BYTES - off) / 8)
      off = 0
    }
    const base = ringBase(own)
    let end = -1
    try {
      // Every read after the flag's store (see the file's comment); the claim last, as it may take one.
      if (
        Atomics.load(i32, H_COMMITS) === seen &&
        i32[H_FOLLOWERS] === 0 &&
        this.#room(start, ctl) &&
        !lock.heldElsewhere() &&
        this.#claim(claim)
      ) {
        // Before the entry is published: a bare read that happens after it sees the word so, or a
        // later holder's count, which it does not stand at (see the file's comment). Plainly read
        // after the commit word's load, which saw the last holder's release: it is not stale.
        if (i32[H_SEALED_AT] !== RINGS_LIVE) Atomics.store(i32, H_SEALED_AT, RINGS_LIVE)
        end = write(this.bytes, this.view, base + off + RING_HEADER, base + off + RING_ROOM, key, before, after)
      }
    } finally {
      // Nothing published: the flag goes at once (a sealer may be waiting for it).
      if (end < 0) Atomics.store(i32, ctl + R_TAIL, tail << 1)
    }
    if (end < 0) return false
    const view = this.view
    if (start !== tail) view.setUint32(base + ringOff(tail), RING_WRAP, true)
    view.setUint32(base + off, end - (base + off + RING_HEADER), true)
    // The stamp: after every entry that happens before this write (see the file's comment).
    const stamp = nextStamp(i32, own, i32[H_RINGS_MASK] as number)
    view.setUint32(base + off + 4, (stamp << 3) | own, true)
    i32[ctl + R_STAMP] = stamp
    const next = norm(start + ((end - (base + off) + 7) >>> 3))
    // Publishes the entry (its bytes above are ordered before this store) and clears the flag.
    Atomics.store(i32, ctl + R_TAIL, next << 1)
    this.at[own] = next
    this.#writes++
    return true
  }

  /**
   * The own ring's sealed position as last read: it only grows, so it is read again only when
   * the ring looks full by it (a load of another thread's line saved per write).
   */
  #sealed = 0

  /** Whether an entry may start at `start` in this thread's ring: the space a room takes past it is sealed (in the published log). */
  #room(start: number, ctl: number): boolean {
    if (ringDiff(start + ROOM_UNITS, this.#sealed) <= RING_UNITS) return true
    this.#sealed = Atomics.load(this.i32, ctl + R_SEALED)
    return ringDiff(start + ROOM_UNITS, this.#sealed) <= RING_UNITS
  }

  /** Whether the claim at `slot` is this thread's, or was free and now is. */
  #claim(slot: number): boolean {
    const i32 = this.i32
    const idx = CLAIMS_BASE + slot
    const c = i32[idx] as number
    if (c === this.own + 1) return true
    return c === 0 && Atomics.compareExchange(i32, idx, 0, this.own + 1) === 0
  }

  /**
   * Called by a write of the record of claim `slot` through the append mutex (held: no ring write
   * is in flight, and the rings are sealed): the claim becomes this thread's pending one, or, if it
   * was that already, its ring's (see the file's comment). A free claim stays free.
   */
  takeClaim(slot: number): void {
    const idx = CLAIMS_BASE + slot
    const i32 = this.i32
    const c = i32[idx] as number
    const pending = PENDING + this.slot + 1
    if (c === 0 || c === this.own + 1) return
    Atomics.store(i32, idx, c === pending && this.own >= 0 ? this.own + 1 : pending)
  }

  /** Whether a ring write of the record of claim `slot` could take it (a plain read, before the flag: a hint). */
  mayClaim(slot: number): boolean {
    const c = this.i32[CLAIMS_BASE + slot] as number
    return c === 0 || c === this.own + 1
  }

  /** After a ring write: whether to look at the other rings now (every {@link LOOK_EVERY} writes). */
  get lookDue(): boolean {
    return (this.#writes & (LOOK_EVERY - 1)) === 0
  }

  /** Whether this thread's ring is half full of unsealed entries (it then seals). */
  get sealDue(): boolean {
    const own = this.own
    if (own < 0 || ringDiff(this.at[own] as number, this.#sealed) <= SEAL_AT) return false
    this.#sealed = Atomics.load(this.i32, ringCtl(own) + R_SEALED)
    return ringDiff(this.at[own] as number, this.#sealed) > SEAL_AT
  }
}
