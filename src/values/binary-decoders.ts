import { MAX_SHAPES, compilable } from './binary-shapes'
import { blankFor, needsLiteral, type Blank } from './plain-record'

/*
 * The reading side of the per-shape code of the binary value codec (./binary-shapes.ts has the
 * writing side): per names block, a function that builds the object (see compileDecoder). The last
 * shape is tried first, then the ones whose names block hashes the same.
 */

/** What a value reader offers a compiled shape. */
export interface ValueReader {
  value(): unknown
}

/** How objects of one names block are read. */
export interface DecodeShape {
  readonly names: Uint8Array
  readonly read: (r: ValueReader) => Record<string, unknown>
}

const decoders = new Map<number, DecodeShape[]>()
let decoderCount = 0
let lastDecoder: DecodeShape | undefined

/** The reader of the names block `bytes[start, end)`, if one was made already. */
export function knownDecoder(bytes: Uint8Array, start: number, end: number): DecodeShape | undefined {
  const last = lastDecoder
  if (last !== undefined && sameBytes(last.names, bytes, start, end)) return last
  const candidates = decoders.get(hash(bytes, start, end))
  if (candidates === undefined) return undefined
  for (const shape of candidates) {
    if (sameBytes(shape.names, bytes, start, end)) return (lastDecoder = shape)
  }
  return undefined
}

/** Makes (and keeps, up to a limit) the reader of a names block whose fields are `fields`. */
export function newDecoder(bytes: Uint8Array, start: number, end: number, fields: readonly string[]): DecodeShape {
  const names = bytes.slice(start, end)
  const shape: DecodeShape = { names, read: compilable(fields) ? compileDecoder(fields) : genericDecoder(fields) }
  if (decoderCount < MAX_SHAPES) {
    decoderCount++
    const h = hash(bytes, start, end)
    const list = decoders.get(h)
    if (list === undefined) decoders.set(h, [shape])
    else list.push(shape)
    lastDecoder = shape
  }
  return shape
}

/**
 * Made by the Blank constructor, each field read in order, unless a field name needs a literal
 * (see ./plain-record.ts): a replica decodes its first records (a snapshot, a run of inserts) and
 * keeps them, and V8 then pretenured the literal's site, so that every later decoded object (an
 * update's nested value, a record replaced at once) started in the old generation.
 */
function compileDecoder(fields: readonly string[]): DecodeShape['read'] {
  const names = fields.map((f) => JSON.stringify(f))
  if (needsLiteral(fields)) {
    // An object literal evaluates its values in order: each field reads the next value.
    const props = names.map((n) => `${n}: r.value()`).join(',\n')
    return new Function('r', `return {\n${props}\n}`) as DecodeShape['read']
  }
  const stores = names.map((n) => `o[${n}] = r.value()`).join('\n')
  const make = new Function('Blank', `return function read(r) {\nvar o = new Blank()\n${stores}\nreturn o\n}`) as (b: Blank) => DecodeShape['read']
  return make(blankFor(fields))
}

function genericDecoder(fields: readonly string[]): DecodeShape['read'] {
  return (r) => {
    const obj: Record<string, unknown> = {}
    for (const f of fields) {
      const value = r.value()
      // Defined, not assigned: a `__proto__` field is data, never the prototype.
      Object.defineProperty(obj, f, { value, enumerable: true, writable: true, configurable: true })
    }
    return obj
  }
}

function sameBytes(names: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  if (names.length !== end - start) return false
  for (let i = 0; i < names.length; i++) if (names[i] !== bytes[start + i]) return false
  return true
}

/** FNV-1a over a names block. */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193)
  return h
}
