// The writer of the binary value codec (./binary.ts): a growing buffer, and `putFlat` for
// compiled writers that write flat values with no writer.
import { compileFlatWriter, encoderOf, type EncodedName, type EncodeShape } from './binary-shapes'
import { T_ARRAY, T_BIGINT, T_DATE, T_FALSE, T_FIELDS, T_FLOAT, T_INT, T_NULL, T_STRING, T_TRUE, T_UNDEFINED } from './binary-tags'

const utf8 = new TextEncoder()

/** Writes values into a growing buffer; reuse one writer, call `copy()` (or `finish()`) for the bytes. */
export class BinaryWriter {
  #bytes: Uint8Array
  #view: DataView
  #words: Int32Array
  #pos = 0
  /** Where writing must stop: the buffer's end, or the end of the range given to {@link over}. */
  #limit: number
  /** Writing into a range given to {@link over}: it never grows, it throws {@link WRITER_FULL}. */
  #fixed = false

  /** `initialBytes`: the buffer's first size (it grows as needed). */
  constructor(initialBytes = 4096) {
    this.#bytes = new Uint8Array((Math.max(initialBytes, 16) + 3) & ~3)
    this.#view = new DataView(this.#bytes.buffer)
    this.#words = new Int32Array(this.#bytes.buffer)
    this.#limit = this.#bytes.length
  }

  /**
   * Writes from now on into `bytes[start, limit)` (`view`: a view of all of `bytes`' buffer),
   * without growing: a value that does not fit throws {@link WRITER_FULL}, with the bytes up to
   * `limit` possibly written. {@link length} is then the position in `bytes`. For encoding a
   * shared log's entry straight into its ring.
   */
  over(bytes: Uint8Array, view: DataView, start: number, limit: number): this {
    this.#bytes = bytes
    this.#view = view
    this.#pos = start
    this.#limit = limit
    this.#fixed = true
    return this
  }

  /** The buffer written to (the bytes written are the first {@link length}). */
  get bytes(): Uint8Array {
    return this.#bytes
  }

  /** The same buffer as 32-bit words, for copies a word at a time (not after {@link over}). */
  get words(): Int32Array {
    return this.#words
  }

  /** Bytes written since the last reset (after {@link over}: the position in its bytes). */
  get length(): number {
    return this.#pos
  }

  reset(): void {
    this.#pos = 0
  }

  /** The bytes written since the last reset (a view: copy before the next write). */
  finish(): Uint8Array {
    const out = this.#bytes.subarray(0, this.#pos)
    this.#pos = 0
    return out
  }

  /** A copy of the bytes written since the last reset, which it resets. */
  copy(): Uint8Array {
    const out = this.#bytes.slice(0, this.#pos)
    this.#pos = 0
    return out
  }

  value(v: unknown): void {
    // Strings and numbers first, in a body small enough to inline into the compiled shapes.
    if (typeof v === 'string') this.string(v, T_STRING)
    else if (typeof v === 'number') this.#number(v)
    else this.#other(v)
  }

  #other(v: unknown): void {
    switch (typeof v) {
      case 'boolean':
        return this.byte(v ? T_TRUE : T_FALSE)
      case 'undefined':
        return this.byte(T_UNDEFINED)
      case 'bigint':
        return this.string(v.toString(), T_BIGINT)
      default:
        return this.#object(v as object | null)
    }
  }

  /** A string with its tag (`T_STRING`) or as a bare key (tag -1). */
  string(s: string, tag: number): void {
    this.#ensure(5 + s.length * 3)
    this.#pos = putString(this.#bytes, this.#view, this.#pos, s, tag)
  }

  /** The buffer written to as a `DataView` (of all of its array buffer: positions are {@link length}'s). */
  get view(): DataView {
    return this.#view
  }

  /** Where writing must stop (see {@link over}). */
  get limit(): number {
    return this.#limit
  }

  /**
   * Moves the position to `pos`, past bytes written into {@link bytes} directly (by a compiled
   * writer, up to {@link limit} at most).
   */
  skipTo(pos: number): void {
    this.#pos = pos
  }

  /** Overwrites the 32-bit word at `at` (written before with {@link uint}). */
  setUint(at: number, n: number): void {
    this.#view.setUint32(at, n, true)
  }

  uint(n: number): void {
    this.#ensure(4)
    const pos = this.#pos
    this.#view.setUint32(pos, n, true)
    this.#pos = pos + 4
  }

  byte(b: number): void {
    this.#ensure(1)
    this.#bytes[this.#pos++] = b
  }

  /**
   * A bare string encoded already (`encodedName`), copied a 32-bit word at a time (a typed
   * array's element store costs ~35 instructions in Node 20, a `DataView` store about as much,
   * and a `set` is a builtin call). Up to 3 bytes past the name are written (its padding): room
   * is made for them, and what is written next overwrites them (only the first {@link length}
   * bytes are the encoding).
   */
  name(encoded: EncodedName): void {
    const n = encoded.length
    const words = encoded.words
    this.#ensure(n + 3)
    const view = this.#view
    const pos = this.#pos
    for (let i = 0; i < words.length; i++) view.setInt32(pos + 4 * i, words[i] as number, true)
    this.#pos = pos + n
  }

  /** Raw bytes (a shape's block of field names). */
  raw(bytes: Uint8Array): void {
    this.#ensure(bytes.length)
    this.#bytes.set(bytes, this.#pos)
    this.#pos += bytes.length
  }

  /**
   * The field values of `v`, an object of `shape`'s fields (its names written already, or known
   * to the reader): by the shape's compiled flat writer while every value is flat and fits, else
   * by `shape.write` (from the same position: what the flat writer wrote is overwritten).
   */
  fields(shape: EncodeShape, v: object): void {
    const flat = shape.flat === undefined ? (shape.flat = compileFlatWriter(shape.fields, putFlat)) : shape.flat
    if (flat !== null) {
      const end = flat(this.#bytes, this.#view, this.#pos, this.#limit, v)
      if (end >= 0) {
        this.#pos = end
        return
      }
    }
    shape.write(v, this)
  }

  /**
   * Makes room for `n` more bytes at once: a caller that knows about how much it will write
   * (a snapshot, from its first records) allocates once instead of doubling from a few KiB, each
   * new buffer's pages faulted in and the bytes so far copied.
   */
  reserve(n: number): void {
    this.#ensure(n)
  }

  #number(v: number): void {
    this.#ensure(9)
    const pos = this.#pos
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      this.#bytes[pos] = T_INT
      this.#view.setInt32(pos + 1, v, true)
      this.#pos = pos + 5
    } else {
      this.#bytes[pos] = T_FLOAT
      this.#view.setFloat64(pos + 1, v, true)
      this.#pos = pos + 9
    }
  }

  #object(v: object | null): void {
    if (v === null) return this.byte(T_NULL)
    if (v instanceof Date) {
      this.#ensure(9)
      this.#bytes[this.#pos++] = T_DATE
      this.#view.setFloat64(this.#pos, v.getTime(), true)
      this.#pos += 8
      return
    }
    if (Array.isArray(v)) {
      this.byte(T_ARRAY)
      this.uint(v.length)
      for (let i = 0; i < v.length; i++) this.value(v[i])
      return
    }
    const shape = encoderOf(v)
    this.byte(T_FIELDS)
    this.raw(shape.names)
    shape.write(v, this)
  }

  /** Makes room for `n` more bytes (small enough to inline: the growth is apart). */
  #ensure(n: number): void {
    if (this.#pos + n > this.#limit) this.#grow(n)
  }

  #grow(n: number): void {
    if (this.#fixed) throw WRITER_FULL
    // A whole number of words, so that `words` covers every byte.
    const next = new Uint8Array((Math.max(this.#bytes.length * 2, this.#pos + n) + 3) & ~3)
    next.set(this.#bytes.subarray(0, this.#pos))
    this.#bytes = next
    this.#view = new DataView(next.buffer)
    this.#words = new Int32Array(next.buffer)
    this.#limit = next.length
  }
}

/**
 * Writes string `s` at `bytes[pos]` with its tag (`T_STRING`) or bare (tag -1), the caller having
 * made room for `5 + 3 * s.length` bytes (`view`: a view of all of `bytes`' buffer); returns the
 * position after it.
 */
function putString(bytes: Uint8Array, view: DataView, pos: number, s: string, tag: number): number {
  const n = s.length
  if (tag >= 0) bytes[pos++] = tag
  const start = pos + 4
  let i = 0
  // ASCII, the common case, byte by byte; anything else by the UTF-8 encoder.
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) break
    bytes[start + i] = c
  }
  const length = i === n ? n : utf8.encodeInto(s, bytes.subarray(start)).written
  view.setUint32(pos, length, true)
  return start + length
}

/**
 * Writes `v` at `bytes[pos]` as {@link BinaryWriter.value} does, with no writer (`view`: a view of
 * all of `bytes`' buffer), if it is a number, a string, a boolean, null or undefined and fits
 * before `limit`: returns the position after it; else -1, with bytes up to `limit` possibly
 * written (the caller then writes it with a writer). For compiled writers of hot entries
 * (`compilePatchWriter`), which then call no writer method per value.
 */
export function putFlat(bytes: Uint8Array, view: DataView, pos: number, limit: number, v: unknown): number {
  if (typeof v === 'number') {
    if (pos + 9 > limit) return -1
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      bytes[pos] = T_INT
      view.setInt32(pos + 1, v, true)
      return pos + 5
    }
    bytes[pos] = T_FLOAT
    view.setFloat64(pos + 1, v, true)
    return pos + 9
  }
  if (typeof v === 'string') return pos + 5 + v.length * 3 > limit ? -1 : putString(bytes, view, pos, v, T_STRING)
  if (pos >= limit) return -1
  const tag = v === true ? T_TRUE : v === false ? T_FALSE : v === null ? T_NULL : v === undefined ? T_UNDEFINED : -1
  if (tag < 0) return -1
  bytes[pos] = tag
  return pos + 1
}

/** Thrown by a writer given a fixed range ({@link BinaryWriter.over}) that a value does not fit in. */
export const WRITER_FULL: unique symbol = Symbol('BinaryWriter range full')
