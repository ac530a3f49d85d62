/*
 * Per-shape code for the binary value codec (./binary.ts). Records of a table mostly share one
 * list of fields: the writer compiles, per list, a function that reads each field by name, and
 * the reader one that builds the object as a literal. Both try the last shape first, which costs
 * a few comparisons and allocates nothing. The reading side is in ./binary-decoders.ts.
 */

import { hasFields } from './own-field'

export type { DecodeShape, ValueReader } from './binary-decoders'

/** What a value writer offers a compiled shape. */
export interface ValueWriter {
  value(v: unknown): void
  /** A string with its tag, or as a bare key (tag -1). */
  string(s: string, tag: number): void
  /** A bare string encoded already (`encodedName`). */
  name(encoded: EncodedName): void
}

/** How objects of one field list are written: the names block, then each value in order. */
export interface EncodeShape {
  readonly fields: readonly string[]
  /** `[count u32]([length u32][UTF-8 bytes])*`, written once per object as it is. */
  readonly names: Uint8Array
  readonly write: (v: object, w: ValueWriter) => void
  /**
   * Writes the fields whose values differ between `before` (an object of the same fields, in the
   * same order) and `after`, each as its name then its value; returns how many.
   */
  readonly diff: (before: object, after: object, w: ValueWriter) => number
  /**
   * The shape's {@link FlatWriter}, compiled on first use (`compileFlatWriter`, by ./binary-writer.ts,
   * which gives it the value writer); null when the shape is not compiled.
   */
  flat: FlatWriter | null | undefined
}

/**
 * Writes every field value of `v` (an object of the shape's fields, in order) from `bytes[pos]`
 * (`view`: a view of all of `bytes`' buffer) if each is flat (see `PutFlat`) and fits before
 * `limit`; returns the position after them, or -1 (bytes up to `limit` possibly written: the
 * caller then writes the object with its shape's `write`).
 */
export type FlatWriter = (bytes: Uint8Array, view: DataView, pos: number, limit: number, v: object) => number

/** Beyond this many shapes (or fields), objects are handled field by field, uncompiled. */
export const MAX_SHAPES = 2000
const MAX_FIELDS = 100

const encoders = new Map<string, EncodeShape>()
let lastEncoder: EncodeShape | undefined

/** The writer of `v`'s field list (in `Object.keys` order, which a literal reproduces). */
export function encoderOf(v: object): EncodeShape {
  const last = lastEncoder
  // The last shape is checked by walking `v`'s fields against it, which makes no key array (most
  // objects encoded in a row are records of one table).
  if (last !== undefined && hasFields(v, last.fields)) return last
  return (lastEncoder = encoderFor(Object.keys(v)))
}

/** The last list given to {@link encoderOfFields}, and its writer. */
let lastFields: readonly string[] | undefined
let lastFieldsEncoder: EncodeShape | undefined

/**
 * The writer of objects whose fields are exactly `fields`, in order (a record shape's list, kept
 * by its caller: the same array comes back write after write, and is then known by identity).
 */
export function encoderOfFields(fields: readonly string[]): EncodeShape {
  if (fields === lastFields) return lastFieldsEncoder as EncodeShape
  lastFieldsEncoder = encoderFor(fields)
  lastFields = fields
  return lastFieldsEncoder
}

function encoderFor(fields: readonly string[]): EncodeShape {
  // JSON: unambiguous whatever the names hold (a join could make [] and [''] one shape).
  const signature = JSON.stringify(fields)
  let shape = encoders.get(signature)
  if (shape === undefined) {
    shape = encoders.size >= MAX_SHAPES || !compilable(fields) ? genericEncoder(fields) : compileEncoder(fields)
    // A shape made for one object only (too many shapes) is not kept.
    if (encoders.size < MAX_SHAPES) encoders.set(signature, shape)
  }
  return shape
}

/** Field names enter generated code only as JSON string literals; `__proto__` never does. */
export function compilable(fields: readonly string[]): boolean {
  return fields.length <= MAX_FIELDS && !fields.includes('__proto__')
}

function namesBlock(fields: readonly string[]): Uint8Array {
  const encoded = fields.map((f) => utf8.encode(f))
  const out = new Uint8Array(4 + encoded.reduce((n, e) => n + 4 + e.length, 0))
  const view = new DataView(out.buffer)
  view.setUint32(0, fields.length, true)
  let at = 4
  for (const e of encoded) {
    view.setUint32(at, e.length, true)
    out.set(e, at + 4)
    at += 4 + e.length
  }
  return out
}

function compileEncoder(fields: readonly string[]): EncodeShape {
  const names = fields.map((f) => JSON.stringify(f))
  const body = names.map((f) => `w.value(v[${f}]);`).join('\n')
  const write = new Function('v', 'w', body) as EncodeShape['write']
  // Same value: identical, and for zeros the same sign (0 and -0 are distinct values). A changed
  // field's name is written from its bytes encoded once (constants of the closure), not char by char.
  const tests = names.map((f, i) => `x = a[${f}]; y = b[${f}]; if (x !== y || (x === 0 && 1 / x !== 1 / y)) { w.name(n${i}); w.value(x); n++ }`)
  const params = fields.map((_, i) => `n${i}`)
  const makeDiff = new Function(...params, `return function diff(b, a, w) { var n = 0, x, y;\n${tests.join('\n')}\nreturn n }`) as (...names: EncodedName[]) => EncodeShape['diff']
  return { fields, names: namesBlock(fields), write, diff: makeDiff(...fields.map(encodedName)), flat: undefined }
}

/**
 * Compiles the {@link FlatWriter} of `fields` (a compiled shape's), each value written by `put`
 * (`putFlat`, passed in: ./binary-writer.ts imports this module). A snapshot writes every record so:
 * no writer method per value, and the code is the one the patch writer of a writing thread
 * keeps hot (a thread's first snapshot otherwise ran the general writer cold).
 */
export function compileFlatWriter(fields: readonly string[], put: PutFlat): FlatWriter {
  const stores = fields.map((f) => `pos = put(bytes, view, pos, limit, v[${JSON.stringify(f)}])\nif (pos < 0) return -1`)
  return new Function('put', `return function flat(bytes, view, pos, limit, v) {\n${stores.join('\n')}\nreturn pos\n}`)(put) as FlatWriter
}

/** `putFlat` (./binary-writer.ts): a value that is not an object written with no writer, or -1. */
export type PutFlat = (bytes: Uint8Array, view: DataView, pos: number, limit: number, v: unknown) => number

/**
 * Writes, from `bytes[pos]` (`view`: a view of all of `bytes`' buffer), a head given once, then
 * `key`, then the fields whose values differ between `before` and `after` (both objects of the
 * writer's fields, in its order) as `[count u32]([name][value])*`: what `EncodeShape.diff` writes
 * after the same head and key. Returns the position after it, or -1 (bytes up to `limit`
 * possibly written) if it does not fit before `limit` or a value is not flat (the caller then
 * writes it the general way).
 */
export type PatchWriter = (bytes: Uint8Array, view: DataView, pos: number, limit: number, key: unknown, before: object, after: object) => number

/**
 * Compiles a {@link PatchWriter} for the head bytes `head` and objects of `fields` (null if they
 * cannot be compiled): the head and each field's name are stored as 32-bit constants of the code,
 * each value written by `put` (`putFlat`, passed in: ./binary-writer.ts imports this module). A shared
 * database's update by key spends a third of its encoding in method calls of the writer
 * otherwise (one per value, one per name, each reading the writer's position and limit).
 */
export function compilePatchWriter(head: Uint8Array, fields: readonly string[], put: PutFlat): PatchWriter | null {
  if (!compilable(fields)) return null
  const names = fields.map((f) => JSON.stringify(f))
  const tests = names.map((f, i) => {
    const name = encodedName(fields[i] as string)
    return `x = a[${f}]; y = b[${f}];
if (x !== y || (x === 0 && 1 / x !== 1 / y)) {
  if (pos + ${4 * name.words.length} > limit) return -1
  ${storeWords(name.words)}
  pos = put(bytes, view, pos + ${name.length}, limit, x)
  if (pos < 0) return -1
  n++
}`
  })
  const encodedHead = encodedBytes(head)
  const body = `return function patch(bytes, view, pos, limit, key, b, a) {
if (pos + ${4 * encodedHead.words.length} > limit) return -1
${storeWords(encodedHead.words)}
pos = put(bytes, view, pos + ${encodedHead.length}, limit, key)
if (pos < 0 || pos + 4 > limit) return -1
var at = pos, n = 0, x, y
pos += 4
${tests.join('\n')}
view.setUint32(at, n, true)
return pos
}`
  return (new Function('put', body) as (put: PutFlat) => PatchWriter)(put)
}

/** Code storing `words` (little-endian) from `pos` on, as constants. */
function storeWords(words: Int32Array): string {
  return Array.from(words, (w, i) => `view.setInt32(pos + ${4 * i}, ${w}, true)`).join('\n')
}

function genericEncoder(fields: readonly string[]): EncodeShape {
  const write = (v: object, w: ValueWriter): void => {
    for (const f of fields) w.value((v as Record<string, unknown>)[f])
  }
  const diff = (before: object, after: object, w: ValueWriter): number => {
    let n = 0
    for (const f of fields) {
      const x = (after as Record<string, unknown>)[f]
      if (Object.is(x, (before as Record<string, unknown>)[f])) continue
      w.string(f, -1)
      w.value(x)
      n++
    }
    return n
  }
  return { fields, names: namesBlock(fields), write, diff, flat: null }
}

const utf8 = new TextEncoder()

/**
 * A bare string as `BinaryWriter.string` writes it (tag -1): its length word, then its UTF-8
 * bytes, `length` bytes in all; held as the little-endian 32-bit words of those bytes (the last
 * padded with zeros), so that a writer copies it a word at a time.
 */
export interface EncodedName {
  readonly words: Int32Array
  readonly length: number
}

export function encodedName(s: string): EncodedName {
  const text = utf8.encode(s)
  const bytes = new Uint8Array(4 + text.length)
  new DataView(bytes.buffer).setUint32(0, text.length, true)
  bytes.set(text, 4)
  return encodedBytes(bytes)
}

/** Any bytes as an {@link EncodedName} (`BinaryWriter.name` writes them as they are). */
export function encodedBytes(bytes: Uint8Array): EncodedName {
  const padded = new Uint8Array((bytes.length + 3) & ~3)
  padded.set(bytes)
  const view = new DataView(padded.buffer)
  const words = new Int32Array(padded.length >> 2)
  // Read as little-endian whatever the platform's order: the writer stores them the same way.
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(4 * i, true)
  return { words, length: bytes.length }
}
