import { InvalidArgumentError } from '../errors'
import { FrozenDate } from './freeze'

/*
 * A compact binary encoding of stored values (JSON-like + Date + bigint + undefined), used for
 * change sets crossing threads. Decoding yields frozen values, as the store keeps them, in one
 * pass. Measured against v8.serialize on increment-sized change sets: about 4× faster to
 * encode, with far less garbage.
 */
const T_NULL = 0
const T_UNDEFINED = 1
const T_FALSE = 2
const T_TRUE = 3
const T_INT = 4
const T_FLOAT = 5
const T_STRING = 6
const T_BIGINT = 7
const T_DATE = 8
const T_ARRAY = 9
const T_OBJECT = 10

/** Writes values into a growing buffer; reuse one writer, call `finish()` for the bytes. */
export class BinaryWriter {
  #buf = Buffer.allocUnsafe(4096)
  #view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength)
  #pos = 0

  /** The bytes written since the last reset (a view: copy before the next write). */
  finish(): Uint8Array {
    const out = this.#buf.subarray(0, this.#pos)
    this.#pos = 0
    return out
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.string(v, T_STRING)
      case 'number':
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.#ensure(5)
          this.#buf[this.#pos++] = T_INT
          this.#view.setInt32(this.#pos, v, true)
          this.#pos += 4
        } else {
          this.#ensure(9)
          this.#buf[this.#pos++] = T_FLOAT
          this.#view.setFloat64(this.#pos, v, true)
          this.#pos += 8
        }
        return
      case 'boolean':
        return this.#tag(v ? T_TRUE : T_FALSE)
      case 'undefined':
        return this.#tag(T_UNDEFINED)
      case 'bigint':
        return this.string(v.toString(), T_BIGINT)
      default:
        return this.#object(v as object | null)
    }
  }

  /** A string with its tag (`T_STRING`) or as a bare key (tag -1). */
  string(s: string, tag: number): void {
    this.#ensure(5 + s.length * 3)
    if (tag >= 0) this.#buf[this.#pos++] = tag
    const start = this.#pos + 4
    const n = s.length < 64 && asciiWrite(this.#buf, s, start) ? s.length : this.#buf.write(s, start, 'utf8')
    this.#view.setUint32(this.#pos, n, true)
    this.#pos = start + n
  }

  uint(n: number): void {
    this.#ensure(4)
    this.#view.setUint32(this.#pos, n, true)
    this.#pos += 4
  }

  #object(v: object | null): void {
    if (v === null) return this.#tag(T_NULL)
    if (v instanceof Date) {
      this.#ensure(9)
      this.#buf[this.#pos++] = T_DATE
      this.#view.setFloat64(this.#pos, v.getTime(), true)
      this.#pos += 8
      return
    }
    if (Array.isArray(v)) {
      this.#tag(T_ARRAY)
      this.uint(v.length)
      for (const item of v) this.value(item)
      return
    }
    const keys = Object.keys(v)
    this.#tag(T_OBJECT)
    this.uint(keys.length)
    for (const k of keys) {
      this.string(k, -1)
      this.value((v as Record<string, unknown>)[k])
    }
  }

  #tag(t: number): void {
    this.#ensure(1)
    this.#buf[this.#pos++] = t
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n))
    this.#buf.copy(next, 0, 0, this.#pos)
    this.#buf = next
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }
}

/** Writes `s` as ASCII if it is; false (nothing usable written) otherwise. */
function asciiWrite(buf: Buffer, s: string, at: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) return false
    buf[at + i] = c
  }
  return true
}

/** Reads values written by {@link BinaryWriter}; composite values come out deep-frozen. */
export class BinaryReader {
  readonly #buf: Buffer
  readonly #view: DataView
  #pos = 0

  constructor(bytes: Uint8Array) {
    this.#buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get done(): boolean {
    return this.#pos >= this.#buf.length
  }

  value(): unknown {
    const tag = this.#buf[this.#pos++]
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
      case T_FLOAT: {
        const v = this.#view.getFloat64(this.#pos, true)
        this.#pos += 8
        return v
      }
      case T_STRING:
        return this.string()
      case T_BIGINT:
        return BigInt(this.string())
      case T_DATE: {
        const t = this.#view.getFloat64(this.#pos, true)
        this.#pos += 8
        return Object.freeze(new FrozenDate(t))
      }
      case T_ARRAY: {
        const n = this.uint()
        const arr = new Array<unknown>(n)
        for (let i = 0; i < n; i++) arr[i] = this.value()
        return Object.freeze(arr)
      }
      case T_OBJECT: {
        const n = this.uint()
        const obj: Record<string, unknown> = {}
        for (let i = 0; i < n; i++) {
          const k = this.string()
          obj[k] = this.value()
        }
        return Object.freeze(obj)
      }
      default:
        throw new InvalidArgumentError(`Corrupt binary value: unknown tag ${String(tag)} at byte ${this.#pos - 1}`)
    }
  }

  string(): string {
    const n = this.uint()
    const start = this.#pos
    this.#pos += n
    if (n < 24) {
      let s = ''
      for (let i = start; i < start + n; i++) {
        const c = this.#buf[i] as number
        if (c > 0x7f) return this.#buf.toString('utf8', start, start + n)
        s += String.fromCharCode(c)
      }
      return s
    }
    return this.#buf.toString('utf8', start, start + n)
  }

  uint(): number {
    const v = this.#view.getUint32(this.#pos, true)
    this.#pos += 4
    return v
  }

  #int(): number {
    const v = this.#view.getInt32(this.#pos, true)
    this.#pos += 4
    return v
  }
}
