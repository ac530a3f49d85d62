/*
 * Reading the thread rings (./rings.ts): a replica applies the entries other threads published
 * in their rings and not yet sealed (for freshness: a read must see every commit that happens
 * before it), and skips them when their seal comes through the log.
 */
import { InvalidStateError } from '../errors'
import { H_RINGS_MASK, RING_SLOTS, RING_UNITS, R_TAIL } from './layout'
import { entrySize } from './log'
import { RING_HEADER, RING_WRAP, ROOM_UNITS, norm, ringBase, ringCtl, ringDiff, ringOff, tailOf, type Rings } from './rings'
import { SEAL_HEAD } from './ring-seal'
import { decodeOps, type WireOp } from './codec'

/** Applies a log entry's worth of bytes that is one patch, with nothing published (`ReplicaHost.applyPatch`). */
export type ApplyPatch = (bytes: Uint8Array, start: number, end: number) => boolean

/** A ring entry that a replica finds anything but a patch: ring writers write patches only. */
function notAPatch(): Error {
  return new InvalidStateError('dictdb internal: a thread ring entry that is not one patch')
}

/**
 * How far past a position a ring's tail may be while the entries from that position are whole:
 * the entry being written after the tail may start a skip (less than an entry's room) past it and
 * take a room.
 */
const SAFE_UNITS = RING_UNITS - 2 * ROOM_UNITS

/** Where ring entries are copied before they are applied (a writer may reuse its ring's space once sealed). */
let scratch: Uint8Array = new Uint8Array(1 << 16)
const starts: number[] = []
const lengths: number[] = []

/**
 * Applies every ring's published entries past where this replica has them (`rings.at`), nobody
 * listening here. Each ring's entries are copied first, then its tail is read again: if the writer
 * may have written over what was copied (it only does past its sealed position, so the entries
 * are in the log by then), nothing of that ring is applied and false is returned: the caller
 * catches up with the log and tries again. The same if `logCurrent()`, asked after the copy, says
 * the log moved past this replica: a ring entry was planned on the log as its writer saw it
 * (the commit word, read before the entry was published, so before this copy's read of the
 * tail), which may hold what it needs (a table, a record). True once every ring's entries are applied.
 */
export function applyPublished(rings: Rings, apply: ApplyPatch, logCurrent: () => boolean): boolean {
  const i32 = rings.i32
  const mask = Atomics.load(i32, H_RINGS_MASK)
  let whole = true
  for (let r = 0; r < RING_SLOTS; r++) {
    if ((mask & (1 << r)) === 0) continue
    const from = rings.at[r] as number
    const tail = tailOf(Atomics.load(i32, ringCtl(r) + R_TAIL))
    if (ringDiff(tail, from) <= 0) continue
    const count = copy(rings, r, from, tail)
    // Overwritten meanwhile, or maybe: the entry being written may start up to a skip past the tail.
    if (count < 0 || ringDiff(tailOf(Atomics.load(i32, ringCtl(r) + R_TAIL)), from) > SAFE_UNITS || !logCurrent()) {
      whole = false
      continue
    }
    for (let i = 0; i < count; i++) if (!apply(scratch, starts[i] as number, (starts[i] as number) + (lengths[i] as number))) throw notAPatch()
    rings.at[r] = tail
  }
  return whole
}

/** Copies ring `r`'s entries in [from, to) to `scratch`; how many, or -1 if they cannot be whole. */
function copy(rings: Rings, r: number, from: number, to: number): number {
  if (ringDiff(to, from) > SAFE_UNITS) return -1
  const view = rings.view
  const base = ringBase(r)
  let pos = from
  let at = 0
  let count = 0
  while (ringDiff(to, pos) > 0) {
    const off = ringOff(pos)
    const length = view.getUint32(base + off, true)
    if (length === RING_WRAP) {
      pos = norm(pos + (RING_UNITS - (pos & (RING_UNITS - 1))))
      continue
    }
    // A torn header may claim anything: the tail's second read discards the copy. No further
    // than the ring's end (where a whole entry ends at the latest): `entrySize` of a torn length
    // of 2^31 or more (int32 arithmetic) would be 0 or below, and the walk would never end.
    const n = Math.min(length, RING_UNITS * 8 - off - RING_HEADER)
    const size = entrySize(n)
    if (at + size > scratch.length) scratch = grow(at + size)
    scratch.set(rings.bytes.subarray(base + off + RING_HEADER, base + off + size), at)
    starts[count] = at
    lengths[count] = n
    count++
    at += size
    pos = norm(pos + size / 8)
  }
  return count
}

function grow(min: number): Uint8Array {
  const next: Uint8Array = new Uint8Array(Math.max(min, scratch.length * 2))
  next.set(scratch)
  return next
}

/** Per ring, where a walk of a seal stands (see {@link walkSeal}). */
const walked = new Int32Array(RING_SLOTS)

/** Whether the replica has every entry of the seal at `start` already (each ring up to its end in the seal). */
function hadWhole(rings: Rings, view: DataView, start: number): boolean {
  for (let r = 0; r < RING_SLOTS; r++) {
    const from = view.getInt32(start + 4 * r, true)
    const to = view.getInt32(start + 4 * (RING_SLOTS + r), true)
    if (from !== to && ringDiff(to, rings.at[r] as number) > 0) return false
  }
  return true
}

/** After a seal's entries: each ring it holds is had up to its end in the seal (past a skip to its start that ends it). */
function hadTo(rings: Rings, view: DataView, start: number): void {
  for (let r = 0; r < RING_SLOTS; r++) {
    const from = view.getInt32(start + 4 * r, true)
    const to = view.getInt32(start + 4 * (RING_SLOTS + r), true)
    if (from !== to && ringDiff(to, rings.at[r] as number) > 0) rings.at[r] = to
  }
}

/**
 * Applies the seal `bytes[start, start + length)` (a log entry, see ./ring-seal.ts), nobody
 * listening: its entries that this replica lacks, then notes each ring as had up to its end.
 */
export function applySeal(rings: Rings, bytes: Uint8Array, start: number, length: number, apply: ApplyPatch): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // Had whole already (this thread's own ring, or read from the rings before the seal came).
  if (hadWhole(rings, view, start)) return
  walkSeal(view, start, length, (r, pos, next, at, len) => {
    if (ringDiff(pos, rings.at[r] as number) < 0) return
    if (!apply(bytes, at, at + len)) throw notAPatch()
    rings.at[r] = next
  })
  hadTo(rings, view, start)
}

/** A seal's entries decoded (listeners are told of them): each with its ring and ring positions. */
export interface DecodedSeal {
  /** The seal's head (per ring, from and to), copied. */
  readonly head: DataView
  readonly rings: number[]
  readonly positions: number[]
  readonly nexts: number[]
  readonly ops: WireOp[][]
  /** Per entry: bytes of the seal's payload after it (its commit's position is the seal's end less these). */
  readonly rests: number[]
}

/** Decodes the seal `bytes[start, start + length)`, to apply with {@link applyDecodedSeal}. */
export function decodeSeal(bytes: Uint8Array, start: number, length: number): DecodedSeal {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const head = new DataView(bytes.slice(start, start + SEAL_HEAD).buffer)
  const seal: DecodedSeal = { head, rings: [], positions: [], nexts: [], ops: [], rests: [] }
  walkSeal(view, start, length, (r, pos, next, at, len) => {
    seal.rings.push(r)
    seal.positions.push(pos)
    seal.nexts.push(next)
    seal.ops.push(decodeOps(bytes, at, at + len))
    seal.rests.push(Math.max(0, start + length - (at - RING_HEADER + entrySize(len))))
  })
  return seal
}

/** Applies a decoded seal's entries this replica lacks (checked as each is applied: a listener may catch up meanwhile). */
export function applyDecodedSeal(rings: Rings, seal: DecodedSeal, applyOps: (ops: WireOp[], rest: number) => void): void {
  for (let i = 0; i < seal.ops.length; i++) {
    const r = seal.rings[i] as number
    if (ringDiff(seal.positions[i] as number, rings.at[r] as number) < 0) continue
    rings.at[r] = seal.nexts[i] as number
    applyOps(seal.ops[i] as WireOp[], seal.rests[i] as number)
  }
  hadTo(rings, seal.head, 0)
}

/** Calls `each(ring, position, next position, payload start, payload length)` for every entry of a seal, in its order. */
function walkSeal(view: DataView, start: number, length: number, each: (r: number, pos: number, next: number, at: number, len: number) => void): void {
  for (let r = 0; r < RING_SLOTS; r++) walked[r] = view.getInt32(start + 4 * r, true)
  let at = start + SEAL_HEAD
  const end = start + length
  while (at < end) {
    const len = view.getUint32(at, true)
    const r = view.getUint32(at + 4, true) & (RING_SLOTS - 1)
    const pos = walked[r] as number
    if (len === RING_WRAP) {
      walked[r] = norm(pos + (RING_UNITS - (pos & (RING_UNITS - 1))))
      at += RING_HEADER
      continue
    }
    const size = entrySize(len)
    const next = norm(pos + size / 8)
    each(r, pos, next, at + RING_HEADER, len)
    walked[r] = next
    at += size
  }
}
