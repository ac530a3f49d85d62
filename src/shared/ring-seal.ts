/*
 * Sealing the thread rings (./rings.ts) into the log, by every holder of the append mutex before
 * anything else: their published entries are copied into the log, merged by stamp (the order
 * listeners hear them in: it follows every "happens before" between them, see ./rings.ts), one
 * log entry per chunk, marked by `SEAL_WRITER` in the entry's writer word. A seal's payload: per
 * ring, the position its entries in the chunk run from (i32, 8-byte units), then per ring the
 * position they run to, then the entries as they are in their rings (`[length][stamp << 3 |
 * ring][payload]`, 8-byte aligned; a skip to a ring's start as the 8 bytes `[RING_WRAP][ring]`).
 * Replicas that applied some of them from the rings skip those (`applySeal`, ./ring-read.ts).
 */
import { LockTimeoutError } from '../errors'
import { sleepSync } from '../txn/backoff'
import { H_RINGS_MASK, RING_SLOTS, RING_UNITS, R_SEALED, R_TAIL } from './layout'
import { SEAL_WRITER, entrySize, type SharedLog } from './log'
import { RING_HEADER, RING_WRAP, WRITING, norm, ringBase, ringCtl, ringDiff, ringOff, tailOf, type Rings } from './rings'
import { floorStamps, stampDiff } from './ring-stamps'
import type { EncodedOps } from './codec'

/** The head of a seal's payload: per ring, from (i32); per ring, to (i32). */
export const SEAL_HEAD = 8 * RING_SLOTS
/** Most payload bytes of one seal entry (a ring's backlog takes several). */
const SEAL_CHUNK = 1 << 14
/** Loads of a writing flag before the waiter sleeps a millisecond between looks. */
const SPINS = 2000

/** Where a seal is built (reused: seals are few, and each thread builds its own). */
class SealBuffer implements EncodedOps {
  readonly words: Int32Array
  readonly bytes: Uint8Array
  readonly view: DataView
  length = 0
  constructor(size: number) {
    this.words = new Int32Array(size / 4)
    this.bytes = new Uint8Array(this.words.buffer)
    this.view = new DataView(this.words.buffer)
  }
}

/**
 * Waits until no writer of a ring in `mask` (the rings ever written, read after the append
 * mutex's take) is writing (the mutex held: none starts again while it is), and returns the rings
 * with published entries not yet sealed. One load per ring: its tail word, with `Atomics` for
 * another thread's (after the commit word's take: see ./rings.ts), plainly for this thread's own
 * (it writes it); the sealed position plainly (it only grows, and only to where the published log
 * holds a ring's entries: an old value only makes a seal that {@link sealRings} finds needless
 * or repeats entries; any value it reads was stored after the release before this hold). Run by
 * every holder of the mutex: a load of each word apart cost ~650 instructions per append (callgrind).
 * A writer's flag is set for a few hundred nanoseconds; a dead writer's, until the reaper clears
 * it. Deadline: `timeoutMs` (`LockTimeoutError`).
 */
export function waitForWriters(rings: Rings, mask: number, timeoutMs: number): number {
  const i32 = rings.i32
  let found = 0
  for (let m = mask; m !== 0; m &= m - 1) {
    const r = 31 - Math.clz32(m & -m)
    const ctl = ringCtl(r)
    let word = r === rings.own ? (i32[ctl + R_TAIL] as number) : Atomics.load(i32, ctl + R_TAIL)
    if ((word & WRITING) !== 0) word = waitForWriter(i32, r, timeoutMs)
    if (tailOf(word) !== (i32[ctl + R_SEALED] as number)) found |= 1 << r
  }
  return found
}

/** Waits for ring `r`'s writing flag to clear; its tail word then. */
function waitForWriter(i32: Int32Array, r: number, timeoutMs: number): number {
  let deadline = 0
  for (let spins = 0; ; spins++) {
    const word = Atomics.load(i32, ringCtl(r) + R_TAIL)
    if ((word & WRITING) === 0) return word
    if (spins < SPINS) continue
    const now = Date.now()
    if (deadline === 0) deadline = now + timeoutMs
    else if (now > deadline) throw new LockTimeoutError(`Timed out after ${timeoutMs} ms waiting for the writer of thread ring ${r} (a thread that died writing is reaped when its exit is seen)`)
    sleepSync(1)
  }
}

/** Per ring, where the seal in progress stands, and where it stops (the tails when it began). */
const at = new Int32Array(RING_SLOTS)
const to = new Int32Array(RING_SLOTS)

/**
 * Where a seal left each ring it sealed (`mask`; per ring, `to`): stored as the rings' sealed
 * positions ({@link markSealed}) only once the seal is published.
 */
export class SealEnds {
  mask = 0
  readonly to = new Int32Array(RING_SLOTS)
}

/**
 * Seals every ring's published entries into the log from log position `tail` (append mutex held,
 * writers waited for: {@link waitForWriters}, so no entry is published meanwhile); returns the
 * log's new tail, and notes in `ends` where each ring's entries were sealed to. `makeRoom(tail,
 * end)` frees the ring of the log up to `end` before an entry is written there.
 *
 * The rings' sealed positions (`R_SEALED`) are not stored here: the seal is not published until
 * the holder lets go of the mutex, and a holder may die before (V8 ends a terminated worker at any
 * call's entry). The reaper then frees the mutex at the count it was taken at, and the next append
 * overwrites the seal; had the sealed positions moved, the next holder would not seal those
 * entries again, and their writers could write over them: entries that the replicas which read
 * them from the rings keep, and that the log (a replica rebuilt from it, the listeners) never
 * has. So a ring's sealed position only says where the *published* log holds its entries up to,
 * stored after the release ({@link markSealed}); until then, a dead holder's seal is sealed again
 * by the next holder, and a live one's may be too (it took the mutex between the release and the
 * store): the entries of a ring then come twice in the log, and every reader of a seal skips
 * those it has by their ring position (`applySeal`, `applyDecodedSeal`, ./ring-read.ts), so a
 * replica applies, and a listener hears, each once. The stamps step (`floorStamps`) stays under
 * the mutex: a ring's last stamp is written by its writer, not under the mutex, and raised
 * stamps with no seal published only stamp the next entries higher, after the ones not sealed.
 */
export function sealRings(rings: Rings, log: SharedLog, tail: number, makeRoom: (tail: number, end: number) => void, ends: SealEnds): number {
  const i32 = rings.i32
  const mask = Atomics.load(i32, H_RINGS_MASK)
  let left = 0
  for (let r = 0; r < RING_SLOTS; r++) {
    at[r] = to[r] = 0
    if ((mask & (1 << r)) === 0) continue
    to[r] = tailOf(Atomics.load(i32, ringCtl(r) + R_TAIL))
    at[r] = Atomics.load(i32, ringCtl(r) + R_SEALED)
    if (at[r] !== to[r]) left |= 1 << r
  }
  const sealed = left
  while (left !== 0) {
    const buf = sealBuffer(Math.min(SEAL_CHUNK, log.maxPayload))
    left = fill(rings, left, buf)
    const start = log.place(tail, buf.length)
    const end = start + entrySize(buf.length)
    makeRoom(tail, end)
    log.write(tail, start, SEAL_WRITER, buf)
    tail = end
  }
  ends.mask = sealed
  ends.to.set(to)
  floorStamps(i32, mask)
  return tail
}

/**
 * After the release of the append mutex that published the seal `ends` describes (see
 * {@link sealRings}): each ring's sealed position moves up to where the seal took its entries,
 * unless another holder's seal, published meanwhile, took it further already (the position never
 * goes back: a writer may have written over its ring up to the later one). A thread that dies
 * here leaves a position behind the log: its entries are sealed again, and skipped by readers.
 */
export function markSealed(i32: Int32Array, ends: SealEnds): void {
  for (let m = ends.mask; m !== 0; m &= m - 1) {
    const r = 31 - Math.clz32(m & -m)
    const word = ringCtl(r) + R_SEALED
    const to = ends.to[r] as number
    for (;;) {
      const now = Atomics.load(i32, word)
      if (ringDiff(to, now) <= 0 || Atomics.compareExchange(i32, word, now, to) === now) break
    }
  }
  ends.mask = 0
}

let shared: SealBuffer | null = null
function sealBuffer(size: number): SealBuffer {
  if (shared === null || shared.bytes.length < size) shared = new SealBuffer(size)
  return shared
}

/**
 * Copies the entries of the rings in `left` (a mask) from `at` on, up to `to`, as many as fit
 * `buf`, into `buf` as a seal, merged by stamp (ring after ring for equal ones: neither happens
 * before the other); returns the rings left with entries.
 */
function fill(rings: Rings, left: number, buf: SealBuffer): number {
  const out = buf.view
  const room = Math.min(buf.bytes.length, SEAL_CHUNK)
  for (let r = 0; r < RING_SLOTS; r++) out.setInt32(4 * r, at[r] as number, true)
  let end = SEAL_HEAD
  while (left !== 0) {
    // A lone ring's entries go in runs (the writer sealing its own ring half full).
    const next = (left & (left - 1)) === 0 ? copyRun(rings, 31 - Math.clz32(left), end, room, buf) : copyFirst(rings, left, end, room, buf)
    if (next === end) break
    end = next
    for (let m = left; m !== 0; m &= m - 1) {
      const r = 31 - Math.clz32(m & -m)
      if (at[r] === to[r]) left &= ~(1 << r)
    }
  }
  for (let r = 0; r < RING_SLOTS; r++) out.setInt32(4 * (RING_SLOTS + r), at[r] as number, true)
  buf.length = end
  return left
}

/**
 * Copies to `buf` at `end`, as far as it fits, the entries of the rings in `left` that come next
 * by stamp: the lowest-stamped ring's run of entries stamped before every other ring's next (a
 * skip to a ring's start goes first, on its own); where the seal ends then.
 */
function copyFirst(rings: Rings, left: number, end: number, room: number, buf: SealBuffer): number {
  const view = rings.view
  let best = -1
  let stamp = 0
  let limit = -1 // none yet (stamps are not negative)
  for (let m = left; m !== 0; m &= m - 1) {
    const r = 31 - Math.clz32(m & -m)
    const off = ringBase(r) + ringOff(at[r] as number)
    if (view.getUint32(off, true) === RING_WRAP) return copyWrap(r, end, room, buf)
    const s = view.getUint32(off + 4, true) >>> 3
    if (best < 0 || stampDiff(s, stamp) < 0) {
      if (best >= 0) limit = stamp
      best = r
      stamp = s
    } else if (limit < 0 || stampDiff(s, limit) < 0) {
      limit = s
    }
  }
  return copyRun(rings, best, end, room, buf, limit)
}

/** Copies the skip to ring `r`'s start that `at[r]` stands at, if it fits. */
function copyWrap(r: number, end: number, room: number, buf: SealBuffer): number {
  if (end + RING_HEADER > room) return end
  buf.view.setUint32(end, RING_WRAP, true)
  buf.view.setUint32(end + 4, r, true)
  const pos = at[r] as number
  at[r] = norm(pos + (RING_UNITS - (pos & (RING_UNITS - 1))))
  return end + RING_HEADER
}

/**
 * Copies ring `r`'s entries from `at[r]` on (up to `to[r]`; with `limit`, the first and then those
 * stamped before it) into `buf` from `end`, as many as fit; where the seal ends then. The entries
 * lie as they are in the ring, so a run of them is copied at once (a walk of their headers finds
 * where it ends: the room, the limit, or a skip to the ring's start, whose header ends its run).
 * A copy per entry cost ~25 instructions per byte.
 */
function copyRun(rings: Rings, r: number, end: number, room: number, buf: SealBuffer, limit?: number): number {
  const view = rings.view
  const base = ringBase(r)
  let pos = at[r] as number
  let run = ringOff(pos)
  let runAt = end
  for (let first = true; pos !== to[r]; first = false) {
    const off = ringOff(pos)
    const length = view.getUint32(base + off, true)
    const wrap = length === RING_WRAP
    if (!first && !wrap && limit !== undefined && stampDiff(view.getUint32(base + off + 4, true) >>> 3, limit) >= 0) break
    const size = wrap ? RING_HEADER : entrySize(length)
    if (end + size > room) break
    end += size
    if (wrap) {
      buf.bytes.set(rings.bytes.subarray(base + run, base + off + RING_HEADER), runAt)
      buf.view.setUint32(end - 4, r, true)
      pos = norm(pos + (RING_UNITS - (pos & (RING_UNITS - 1))))
      run = 0
      runAt = end
      continue
    }
    pos = norm(pos + size / 8)
  }
  if (end > runAt) buf.bytes.set(rings.bytes.subarray(base + run, base + run + (end - runAt)), runAt)
  at[r] = pos
  return end
}
