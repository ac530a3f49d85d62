/*
 * Sealing the thread rings (./rings.ts) into the log, by every holder of the append mutex before
 * anything else: its published entries are copied into the log, one log entry per chunk, marked by
 * `SEAL_WRITER` in the entry's writer word. A seal's payload: the ring (u32), the ring positions
 * its entries run from and to (i32, 8-byte units), 4 bytes of padding, then the ring's entries as
 * they are there (`[length][writer][payload]`, 8-byte aligned; a skip to the ring's start as the
 * 8 bytes `[RING_WRAP][0]`). Replicas that applied some of them from the ring skip those
 * (`applySeal`, ./ring-read.ts).
 */
import { LockTimeoutError } from '../errors'
import { sleepSync } from '../txn/backoff'
import { H_RINGS_MASK, RING_SLOTS, RING_UNITS, R_SEALED, R_TAIL } from './layout'
import { SEAL_WRITER, entrySize, type SharedLog } from './log'
import { RING_HEADER, RING_WRAP, norm, ringBase, ringCtl, ringDiff, ringOff, tailOf, type Rings } from './rings'
import type { EncodedOps } from './codec'

/** The head of a seal's payload: ring, from, to, padding. */
export const SEAL_HEAD = 16
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
 * Waits until no ring's writer is writing (append mutex held: none starts again while it is).
 * A writer's flag is set for a few hundred nanoseconds; a dead writer's, until the reaper clears
 * it. Deadline: `timeoutMs` (`LockTimeoutError`).
 */
export function waitForWriters(rings: Rings, timeoutMs: number): void {
  const mask = Atomics.load(rings.i32, H_RINGS_MASK)
  for (let r = 0; r < RING_SLOTS; r++) {
    if ((mask & (1 << r)) === 0) continue
    let deadline = 0
    for (let spins = 0; rings.writing(r); spins++) {
      if (spins < SPINS) continue
      const now = Date.now()
      if (deadline === 0) deadline = now + timeoutMs
      else if (now > deadline) throw new LockTimeoutError(`Timed out after ${timeoutMs} ms waiting for the writer of thread ring ${r} (a thread that died writing is reaped when its exit is seen)`)
      sleepSync(1)
    }
  }
}

/** Whether any ring has published entries not yet sealed (append mutex held, writers waited for). */
export function unsealed(rings: Rings): boolean {
  const i32 = rings.i32
  const mask = Atomics.load(i32, H_RINGS_MASK)
  for (let r = 0; r < RING_SLOTS; r++) {
    if ((mask & (1 << r)) !== 0 && tailOf(Atomics.load(i32, ringCtl(r) + R_TAIL)) !== Atomics.load(i32, ringCtl(r) + R_SEALED)) return true
  }
  return false
}

/**
 * Seals every ring's published entries into the log from log position `tail` (append mutex held,
 * writers waited for: {@link waitForWriters}); returns the log's new tail. `makeRoom(tail, end)`
 * frees the ring of the log up to `end` before an entry is written there.
 */
export function sealRings(rings: Rings, log: SharedLog, tail: number, makeRoom: (tail: number, end: number) => void): number {
  const i32 = rings.i32
  const mask = Atomics.load(i32, H_RINGS_MASK)
  for (let r = 0; r < RING_SLOTS; r++) {
    if ((mask & (1 << r)) === 0) continue
    const ctl = ringCtl(r)
    const to = tailOf(Atomics.load(i32, ctl + R_TAIL))
    let from = Atomics.load(i32, ctl + R_SEALED)
    while (from !== to) {
      const buf = sealBuffer(Math.min(SEAL_CHUNK, log.maxPayload))
      const next = fill(rings, r, from, to, buf)
      const start = log.place(tail, buf.length)
      const end = start + entrySize(buf.length)
      makeRoom(tail, end)
      log.write(tail, start, SEAL_WRITER | r, buf)
      tail = end
      from = next
    }
    Atomics.store(i32, ctl + R_SEALED, to)
  }
  return tail
}

let shared: SealBuffer | null = null
function sealBuffer(size: number): SealBuffer {
  if (shared === null || shared.bytes.length < size) shared = new SealBuffer(size)
  return shared
}

/** Copies ring `r`'s entries from `from` on (up to `to`, as many as fit `buf`) into `buf` as a seal; returns where it stopped. */
function fill(rings: Rings, r: number, from: number, to: number, buf: SealBuffer): number {
  const view = rings.view
  const base = ringBase(r)
  const out = buf.view
  const room = Math.min(buf.bytes.length, SEAL_CHUNK)
  let at = SEAL_HEAD
  let pos = from
  // The entries lie as they are in the ring, so runs of them are copied at once (a walk of their
  // headers finds where a run ends: the chunk's room, or a skip to the ring's start, whose header
  // ends its run). A copy per entry cost ~25 instructions per byte.
  let run = ringOff(pos)
  let runAt = at
  while (pos !== to && ringDiff(to, pos) > 0) {
    const off = ringOff(pos)
    const length = view.getUint32(base + off, true)
    const wrap = length === RING_WRAP
    const size = wrap ? RING_HEADER : entrySize(length)
    if (at + size > room) break
    at += size
    if (wrap) {
      buf.bytes.set(rings.bytes.subarray(base + run, base + off + RING_HEADER), runAt)
      out.setUint32(at - 4, 0, true)
      pos = norm(pos + (RING_UNITS - (pos & (RING_UNITS - 1))))
      run = 0
      runAt = at
      continue
    }
    pos = norm(pos + size / 8)
  }
  if (at > runAt) buf.bytes.set(rings.bytes.subarray(base + run, base + run + (at - runAt)), runAt)
  out.setUint32(0, r, true)
  out.setInt32(4, from, true)
  out.setInt32(8, pos, true)
  out.setUint32(12, 0, true)
  buf.length = at
  return pos
}
