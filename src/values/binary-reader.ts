// The reader of the binary value codec (./binary.ts): values come out deep-frozen.
import { InvalidArgumentError } from '../errors'
import { FrozenDate } from './freeze'
import { knownDecoder, newDecoder, type DecodeShape } from './binary-decoders'
import { T_ARRAY, T_BIGINT, T_DATE, T_FALSE, T_FIELDS, T_FLOAT, T_INT, T_NULL, T_OBJECT, T_STRING, T_TRUE, T_UNDEFINED } from './binary-tags'

const utf8Decoder = new TextDecoder()

/** The last string {@link BinaryReader.repeatedString} read at one place, and its bytes. */
export class RepeatedString {
  text = ''
  bytes = new Uint8Array(0)
  /**
   * Its bytes as little-endian 32-bit words, at 0, 4, 8… and, when the length is not a multiple
   * of 4, at length − 4: a string read again is compared a word at a time (a byte loop was half
   * of decoding a patch's head).
   */
  words: Int32Array = new Int32Array(0)
}

/** A few strings last read by {@link BinaryReader.recentString}, each with its bytes. */
export class RecentStrings {
  readonly slots: RepeatedString[]
  /** The slot that the next string none of them holds replaces (the one kept longest). */
  next = 0

  constructor(size: number) {
    this.slots = Array.from({ length: size }, () => new RepeatedString())
  }
}

/** Reads values written by {@link BinaryWriter}; composite values come out deep-frozen. */
export class BinaryReader {
  #bytes: Uint8Array
  #view: DataView
  #pos = 0
  #end: number
  /** The buffer read before {@link #bytes}, and its view. */
  #otherBytes: Uint8Array | null = null
  #otherView: DataView

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#otherView = this.#view
    this.#end = bytes.length
  }

  /**
   * Reads `bytes[start, end)` from its start (one reader for many buffers, no allocation per range
   * of one). The buffer before the last is kept with its view: a thread with two replicas of a
   * shared database (or two databases) reads their two logs' buffers in turn.
   */
  reset(bytes: Uint8Array, start = 0, end = bytes.length): void {
    if (bytes !== this.#bytes) {
      const view = this.#view
      if (bytes === this.#otherBytes) {
        this.#view = this.#otherView
      } else {
        this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      }
      this.#otherBytes = this.#bytes
      this.#otherView = view
      this.#bytes = bytes
    }
    this.#pos = start
    this.#end = end
  }

  /** Where the next read starts. */
  get offset(): number {
    return this.#pos
  }

  get done(): boolean {
    return this.#pos >= this.#end
  }

  value(): unknown {
    const tag = this.#bytes[this.#pos++]
    switch (tag) {
      case T_NULL:
        return null
      case T_UNDEFINED:
        return undefined
      case T_FALSE:
        return false
      case T_TRUE:
        return true
      case T_INT:
        return this.#int()
      case T_FLOAT:
        return this.#float()
      case T_STRING:
        return this.string()
      case T_BIGINT:
        return BigInt(this.string())
      case T_DATE:
        return Object.freeze(new FrozenDate(this.#float()))
      case T_ARRAY: {
        const n = this.uint()
        const arr = new Array<unknown>(n)
        for (let i = 0; i < n; i++) arr[i] = this.value()
        return Object.freeze(arr)
      }
      case T_FIELDS:
        return Object.freeze(this.shape().read(this))
      case T_OBJECT:
        return this.#fieldByField()
      default:
        throw new InvalidArgumentError(`Corrupt binary value: unknown tag ${String(tag)} at byte ${this.#pos - 1}`)
    }
  }

  string(): string {
    const n = this.uint()
    const start = this.#pos
    this.#pos += n
    return this.#text(start, n)
  }

  /**
   * A string like {@link string}, for one that repeats (a table's name): when its bytes are those
   * of the last one read into `last`, that same string comes back, neither rebuilt nor re-hashed.
   */
  repeatedString(last: RepeatedString): string {
    const n = this.uint()
    const start = this.#pos
    this.#pos += n
    if (last.bytes.length === n && this.#sameBytes(last, start, n)) return last.text
    return this.#keep(last, start, n)
  }

  /**
   * {@link repeatedString} over the few strings `recent` holds (a thread applying patches of
   * several tables in turn): the bytes are compared with each; a string none of them holds takes
   * the place of the one kept longest.
   */
  recentString(recent: RecentStrings): string {
    const n = this.uint()
    const start = this.#pos
    this.#pos += n
    const slots = recent.slots
    for (let i = 0; i < slots.length; i++) {
      const last = slots[i] as RepeatedString
      if (last.bytes.length === n && this.#sameBytes(last, start, n)) return last.text
    }
    const last = slots[recent.next] as RepeatedString
    recent.next = (recent.next + 1) % slots.length
    return this.#keep(last, start, n)
  }

  /** Reads the `n` bytes at `start` into `last`; returns their string. */
  #keep(last: RepeatedString, start: number, n: number): string {
    last.bytes = this.#bytes.slice(start, start + n)
    last.words = n < 4 ? new Int32Array(0) : this.#words(start, n)
    last.text = this.#text(start, n)
    return last.text
  }

  /** Whether the `n` bytes at `start` are `last`'s (`n` its length). */
  #sameBytes(last: RepeatedString, start: number, n: number): boolean {
    if (n < 4) {
      const bytes = this.#bytes
      const known = last.bytes
      for (let i = 0; i < n; i++) if (known[i] !== bytes[start + i]) return false
      return true
    }
    const view = this.#view
    const words = last.words
    const whole = n >> 2
    for (let i = 0; i < whole; i++) if (view.getInt32(start + 4 * i, true) !== words[i]) return false
    return (n & 3) === 0 || view.getInt32(start + n - 4, true) === words[whole]
  }

  /** The words {@link RepeatedString.words} holds for the `n` (at least 4) bytes at `start`. */
  #words(start: number, n: number): Int32Array {
    const whole = n >> 2
    const words = new Int32Array((n & 3) === 0 ? whole : whole + 1)
    for (let i = 0; i < whole; i++) words[i] = this.#view.getInt32(start + 4 * i, true)
    if ((n & 3) !== 0) words[whole] = this.#view.getInt32(start + n - 4, true)
    return words
  }

  byte(): number {
    return this.#bytes[this.#pos++] as number
  }

  uint(): number {
    const v = this.#view.getUint32(this.#pos, true)
    this.#pos += 4
    return v
  }

  /**
   * The shape whose names block starts here (the block is skipped): a caller that wrote objects
   * of one shape as one names block then each one's values reads each with `shape.read(reader)`.
   */
  shape(): DecodeShape {
    const start = this.#pos
    const count = this.uint()
    for (let i = 0; i < count; i++) this.#pos += 4 + this.#view.getUint32(this.#pos, true)
    const known = knownDecoder(this.#bytes, start, this.#pos)
    if (known !== undefined) return known
    const end = this.#pos
    this.#pos = start + 4
    const fields = Array.from({ length: count }, () => this.string())
    return newDecoder(this.#bytes, start, end, fields)
  }

  #fieldByField(): object {
    const n = this.uint()
    const obj: Record<string, unknown> = {}
    for (let i = 0; i < n; i++) {
      const k = this.string()
      obj[k] = this.value()
    }
    return Object.freeze(obj)
  }

  #text(start: number, n: number): string {
    const bytes = this.#bytes
    if (n <= 32) {
      let s = ''
      for (let i = start; i < start + n; i++) {
        const c = bytes[i] as number
        if (c > 0x7f) return utf8Decoder.decode(bytes.subarray(start, start + n))
        s += String.fromCharCode(c)
      }
      return s
    }
    return utf8Decoder.decode(bytes.subarray(start, start + n))
  }

  #int(): number {
    const v = this.#view.getInt32(this.#pos, true)
    this.#pos += 4
    return v
  }

  #float(): number {
    const v = this.#view.getFloat64(this.#pos, true)
    this.#pos += 8
    return v
  }
}
