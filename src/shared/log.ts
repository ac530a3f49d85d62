import { InvalidStateError } from '../errors'
import type { EncodedOps } from './codec'
import type { SharedMemory } from './memory'
import { BinaryWriter } from '../values/binary'

/** An entry's header: its payload's length and its writer's slot. */
const HEADER = 8
/**
 * Most payload bytes an entry encoded in place ({@link SharedLog.writerAt}) may take: a larger
 * commit is encoded apart and copied ({@link SharedLog.write}). Reclaimed past the tail before
 * encoding, so it is kept small beside the ring (whose smallest size is 64 KiB).
 */
const IN_PLACE_BYTES = 4096
const WRAP = 0xffffffff
const SCRATCH_BYTES = 1 << 16
const SCRATCH_KEPT = 1 << 20
/** Entries a read has room for at first (it grows); past `PLACES_KEPT`, the next read starts over. */
const PLACES = 256
const PLACES_KEPT = 1 << 13
/** Runs of the ring up to this many bytes are copied by a loop of words, longer ones by `set`. */
const COPY_LOOP_BYTES = 64

function align8(n: number): number {
  return (n + 7) & ~7
}

/**
 * Where log position `pos` falls in a ring of `cap` bytes (`pos % cap`). Positions pass 2^31
 * after 2 GiB of log, and are doubles from then on, for which `%` is an x87 remainder loop (~30 ns,
 * against ~3 for these few float operations). Exact for every position below 2^53 (both are
 * multiples of 8, `cap` at most 2^34: the quotient never rounds up to the next integer).
 */
export function ringOffset(pos: number, cap: number): number {
  return pos - Math.floor(pos / cap) * cap
}

/** Bytes an entry of a `length`-byte payload takes in the ring (header and padding included). */
export function entrySize(length: number): number {
  return align8(HEADER + length)
}

/**
 * The shared change log: a ring of committed change sets, each `[length u32][writer u32][bytes]`
 * at a monotonically increasing byte position. Only the holder of the append mutex writes;
 * `tail` is published last, so readers never see a half-written entry. Writers advance `head`
 * *before* overwriting, so a reader that finds `head` past what it just copied knows the copy
 * may be torn and that it fell behind.
 */
export class SharedLog {
  readonly #mem: SharedMemory
  /**
   * Where `read` copies entries: reused, since a new buffer per entry costs more than decoding it.
   * The entries of one `read` are valid until the next `read`.
   */
  #scratch: Uint8Array = new Uint8Array(SCRATCH_BYTES)
  #scratchWords = new Int32Array(this.#scratch.buffer)
  /**
   * Per entry of the last `read`: start in the scratch buffer and payload length, and end position
   * (`#ends`). Starts stay below 2^31: reads are chunked (`CATCH_UP_CHUNK`, `BESIDE_MAX` in
   * ./replica.ts). Never doubles where a small integer will do: a double handed on (from a
   * Float64Array) made the decoder's position, and this replica's own position, double fields,
   * and decoding, catching up and the thread's own appends all slower (+300 instructions per
   * update and applied entry, two writers in turn). So the ends are a plain array, as before.
   */
  #places: Int32Array = new Int32Array(2 * PLACES)
  #ends: number[] = []

  /** The writer of entries encoded in place, and the ring offset of the last one's header. */
  readonly #inPlace = new BinaryWriter(16)
  #inPlaceAt = 0

  constructor(mem: SharedMemory) {
    this.#mem = mem
  }

  /** Largest payload one entry can hold. */
  get maxPayload(): number {
    // Divided, not shifted: a ring of 2 GiB or more does not fit the Int32 of a shift.
    return this.#mem.capacity / 2 - HEADER
  }

  /**
   * Where an entry of `length` bytes appended at `tail` starts (skipping to the ring's start when
   * it would not fit before its end); it ends {@link entrySize} bytes later.
   */
  place(tail: number, length: number): number {
    if (length > this.maxPayload) {
      throw new InvalidStateError(
        `This commit needs ${length} bytes in the shared log, more than its limit of ${this.maxPayload}; create the database with a larger \`logBytes\``,
      )
    }
    const cap = this.#mem.capacity
    const off = ringOffset(tail, cap)
    return off + entrySize(length) > cap ? tail + (cap - off) : tail
  }

  /** The first entry boundary at or after `min`, walking from the current head to at most `tail` (append mutex held). */
  boundaryAfter(min: number, tail: number): number {
    const cap = this.#mem.capacity
    const view = this.#mem.logView
    const stop = Math.min(min, tail)
    let pos = this.#mem.head
    if (pos >= stop) return pos
    // The ring offset is carried along, not divided out per entry: this walk covers 1/32 of the
    // ring per reclaim, about one entry per append, and the division was most of its cost. No
    // entry straddles the ring's end (see `place`, `writerAt`): the offset reaches `cap` exactly.
    let off = ringOffset(pos, cap)
    while (pos < stop) {
      const length = view.getUint32(off, true)
      const step = length === WRAP ? cap - off : align8(HEADER + length)
      pos += step
      off += step
      if (off >= cap) off = 0
    }
    return pos
  }

  /**
   * A writer over the payload of an entry encoded in place at `tail`, up to {@link IN_PLACE_BYTES}
   * and never past the ring's end; null when too near it (such an entry goes through
   * {@link write}, which skips to the ring's start). The caller reclaims up to
   * {@link inPlaceEnd} before encoding anything (append mutex held), then calls {@link seal}.
   */
  writerAt(tail: number): BinaryWriter | null {
    const cap = this.#mem.capacity
    // From the last one's offset while in the same pass over the ring (appends mostly follow one
    // another): a subtraction, not the division of `ringOffset` on every append.
    const ahead = tail - this.#lastPos
    const off = ahead >= 0 && ahead < cap - this.#lastOff ? this.#lastOff + ahead : ringOffset(tail, cap)
    this.#lastPos = tail
    this.#lastOff = off
    const room = Math.min(cap - off - HEADER, IN_PLACE_BYTES)
    if (room <= 0) return null
    this.#inPlaceAt = off
    this.inPlaceEnd = tail + HEADER + room
    return this.#inPlace.over(this.#mem.log, this.#mem.logView, off + HEADER, off + HEADER + room)
  }

  /** The last position {@link writerAt} was given, and its ring offset. */
  #lastPos = 0
  #lastOff = 0

  /** The log position the last {@link writerAt}'s writer may write up to. */
  inPlaceEnd = 0

  /** Writes the header of the entry whose payload {@link writerAt}'s writer wrote; returns the payload's length. */
  seal(writer: number): number {
    const off = this.#inPlaceAt
    const length = this.#inPlace.length - off - HEADER
    const view = this.#mem.logView
    view.setUint32(off, length, true)
    view.setUint32(off + 4, writer, true)
    return length
  }

  /** Writes an entry placed by {@link place} (append mutex held, head already advanced). */
  write(tail: number, start: number, writer: number, payload: EncodedOps): void {
    const view = this.#mem.logView
    const cap = this.#mem.capacity
    if (start !== tail) view.setUint32(ringOffset(tail, cap), WRAP, true)
    const off = ringOffset(start, cap)
    view.setUint32(off, payload.length, true)
    view.setUint32(off + 4, writer, true)
    // Whole words: the entry's padding to 8 bytes has room for the last one.
    copyWords(payload.words, 0, this.#mem.logWords, (off + HEADER) >>> 2, (payload.length + 3) >> 2)
  }

  /**
   * Copies the entries in [from, to) out of the ring; returns how many, or -1 if the ring overtook
   * `from` meanwhile. Entry `i` is `bytes[start(i), start(i) + length(i))` and ends at log
   * position `end(i)`, valid until the next `read` (no object per entry: a catch-up mostly reads one).
   * `limit`: stops at the first entry boundary at or past it, once at least one entry is copied
   * (a skip to the ring's start is not one: a read from before it never gives 0 entries short of `to`).
   */
  read(from: number, to: number, limit = to): number {
    const view = this.#mem.logView
    const cap = this.#mem.capacity
    // A long catch-up may have grown the buffers: they are not kept beyond a bound.
    if (this.#scratch.length > SCRATCH_KEPT) this.#setScratch(new Uint8Array(SCRATCH_BYTES))
    if (this.#places.length > 2 * PLACES_KEPT) this.#places = new Int32Array(2 * PLACES)
    if (this.#ends.length > PLACES_KEPT) this.#ends = []
    let places = this.#places
    const ends = this.#ends
    let pos = from
    let count = 0
    // A catch-up reads on from at or a little past where the last read ended (past this thread's
    // own appends): its ring offset follows from that one's while in the same pass over the ring,
    // and it is carried from entry to entry (the division of `ringOffset` was a quarter of a read).
    const ahead = from - this.#readEnd
    let off = ahead >= 0 && ahead < cap - this.#readEndOff ? this.#readEndOff + ahead : ringOffset(from, cap)
    // The entries are walked by their headers in the ring, and their bytes copied afterwards, a
    // run of the ring at a time (`#copy`: from `runOff` to `off`, to `runAt` in the copy): a copy
    // per entry, word by word, was most of a read (~20 instructions a word, typed array checks
    // and all), and a catch-up mostly reads runs of many small entries.
    let runOff = off
    let runAt = 0
    while (pos < to && (pos < limit || count === 0)) {
      const length = view.getUint32(off, true)
      if (length === WRAP) {
        runAt += this.#copy(runOff, off, runAt)
        pos += cap - off
        off = 0
        runOff = 0
        continue
      }
      // A torn header may claim anything: copy no further than the ring's end (the head check
      // below then discards the read).
      const n = Math.min(length, cap - off - HEADER)
      if (2 * count === places.length) places = this.#growPlaces()
      places[2 * count] = runAt + (off - runOff) + HEADER
      places[2 * count + 1] = n
      // Of `n`, not `length`: the same for a whole entry; for a torn length of 2^31 or more,
      // `entrySize` (int32 arithmetic) would give a step of 0 or below, and the walk would read
      // before the ring or never end.
      const step = entrySize(n)
      pos += step
      off += step
      ends[count] = pos
      count++
      // An entry never straddles the ring's end: a whole one ends at it exactly. Past it, the
      // header was torn: the offset is computed again, and the head check discards the read.
      if (off >= cap) {
        runAt += this.#copy(runOff, Math.min(off, cap), runAt)
        off = off === cap ? 0 : ringOffset(pos, cap)
        runOff = off
      }
    }
    this.#copy(runOff, off, runAt)
    // The check that makes the copy good: every byte used above (headers and copied bytes) was
    // read before it, and a writer moves the head past an entry before it overwrites any of it.
    if (this.#mem.headPast(from)) return -1
    this.#readEnd = pos
    this.#readEndOff = off
    return count
  }

  /**
   * Copies the ring's bytes [`start`, `end`) to the copy's `at` (growing it if need be); returns
   * how many. A few words go by a loop, more by `set` (which costs a view and a builtin call).
   */
  #copy(start: number, end: number, at: number): number {
    const n = end - start
    if (n <= 0) return 0
    if (at + n + 4 > this.#scratch.length) this.#grow(at + n + 4)
    if (n > COPY_LOOP_BYTES) {
      this.#scratch.set(this.#mem.log.subarray(start, end), at)
    } else {
      // Whole words: the copy's end is rounded up (entries are 8-byte aligned in the ring, and
      // the copy has room for a word more).
      copyWords(this.#mem.logWords, start >>> 2, this.#scratchWords, at >> 2, (n + 3) >> 2)
    }
    return n
  }

  /** Twice the room for places (those of the read under way kept). */
  #growPlaces(): Int32Array {
    const places = new Int32Array(2 * this.#places.length)
    places.set(this.#places)
    this.#places = places
    return places
  }

  /** The log position where the last good {@link read} stopped, and its ring offset. */
  #readEnd = 0
  #readEndOff = 0

  /** The buffer the last {@link read} copied its entries to. */
  get bytes(): Uint8Array {
    return this.#scratch
  }
  /** Where entry `i` of the last {@link read} starts in {@link bytes}. */
  start(i: number): number {
    return this.#places[2 * i] as number
  }
  /** The payload length of entry `i` of the last {@link read}. */
  length(i: number): number {
    return this.#places[2 * i + 1] as number
  }
  /** The log position after entry `i` of the last {@link read}. */
  end(i: number): number {
    return this.#ends[i] as number
  }

  #grow(min: number): Uint8Array {
    const next = new Uint8Array(Math.max(min, this.#scratch.length * 2))
    next.set(this.#scratch)
    this.#setScratch(next)
    return next
  }

  #setScratch(bytes: Uint8Array): void {
    this.#scratch = bytes
    this.#scratchWords = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
  }
}

/** Copies `n` words; a loop for the small entries of most commits (cheaper than a subarray and `set`). */
function copyWords(from: Int32Array, at: number, to: Int32Array, toAt: number, n: number): void {
  if (n > 256) {
    to.set(from.subarray(at, at + n), toAt)
    return
  }
  for (let i = 0; i < n; i++) to[toAt + i] = from[at + i] as number
}
