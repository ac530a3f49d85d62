// A database's whole state: the shared snapshot (binary records) and the structured-clone state (PostgreSQL), and definitions made fit to cross threads.
import { deserialize, serialize } from 'node:v8'
import { InvalidArgumentError } from '../errors'
import { isStandardSchema } from '../schema'
import type { DatabaseState, TableDefinition, TableState } from '../storage/change'
import { BinaryReader, BinaryWriter } from '../values/binary'
import { encoderOf, type DecodeShape, type EncodeShape } from '../values/binary-shapes'
import { FrozenDate } from '../values/freeze'
import type { Rec } from '../values/types'

/** Marks a Standard Schema validator, which cannot cross threads: each thread re-attaches its own. */
export const STANDARD_SCHEMA_MARK = Object.freeze({ $standardSchema: true })

/** A definition that can be serialized: a Standard Schema validator becomes a mark. */
export function portableDefinition(def: TableDefinition): TableDefinition {
  return isStandardSchema(def.schema) ? { ...def, schema: STANDARD_SCHEMA_MARK } : def
}

export function encodeState(state: DatabaseState): Uint8Array {
  return serialize({ tables: state.tables.map((t) => ({ ...t, definition: portableDefinition(t.definition) })) })
}

/**
 * A shared database's snapshot (`Replica`), read only by threads of this build: the tables'
 * definitions, auto keys and lock slots as one structured-clone block (`[length u32][bytes]`),
 * then each table's records with the binary value codec (`[count u32][value]*`), whose compiled
 * per-shape writers encode a table of flat records 3–4× faster than a structured clone; a writer
 * encodes the whole database each time the ring drops commits the last snapshot does not cover.
 * `sizeHint`: the bytes the last one took (the buffer is made that large at once).
 */
export function encodeSnapshot(state: DatabaseState, sizeHint = 0, into?: BinaryWriter): Uint8Array {
  const meta = serialize(state.tables.map((t) => ({ definition: portableDefinition(t.definition), nextAutoKey: t.nextAutoKey, lockSlot: t.lockSlot })))
  // `into`: a writer kept from the last snapshot (its buffer's pages are resident: a fresh one of a
  // few MiB costs a page fault per 4 KiB). The bytes returned are then valid until its next use.
  const out = into ?? new BinaryWriter(sizeHint + 4096)
  out.reset()
  out.uint(meta.length)
  out.raw(meta)
  for (const table of state.tables) {
    const records = table.records
    out.uint(records.length)
    const start = out.length
    let last: EncodeShape | undefined
    for (let i = 0; i < records.length; i++) {
      // With no kept writer nor earlier snapshot to size it, room for the rest of the table
      // is made once, as its first records take it.
      if (i === SIZING_SAMPLE) out.reserve(Math.ceil(((out.length - start) / SIZING_SAMPLE) * (records.length - i) * 1.125))
      const rec = records[i] as Rec
      // A record of the shape of the one before is its values alone (most records of a table
      // share one shape): the names block is written, and read, once per run.
      const shape = encoderOf(rec)
      if (shape === last) {
        out.byte(SAME_SHAPE)
      } else {
        out.byte(NEW_SHAPE)
        out.raw(shape.names)
        last = shape
      }
      out.fields(shape, rec)
    }
  }
  return out.finish()
}

/** Records of a table encoded before the snapshot's room for the rest is made (see `BinaryWriter.reserve`). */
const SIZING_SAMPLE = 1024

/** Before each record of a snapshot: its names block follows, or it has the shape of the one before. */
const NEW_SHAPE = 0
const SAME_SHAPE = 1

/** Reads a snapshot {@link encodeSnapshot} wrote; its records come out deep-frozen, as stored. */
export function decodeSnapshot(bytes: Uint8Array): DatabaseState {
  const metaLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const tables = deserialize(bytes.subarray(4, 4 + metaLength)) as Omit<TableState, 'records'>[]
  const r = new BinaryReader(bytes)
  r.reset(bytes, 4 + metaLength)
  return {
    tables: tables.map((table) => {
      const records = new Array<Rec>(r.uint())
      let shape: DecodeShape | undefined
      for (let i = 0; i < records.length; i++) {
        const mark = r.byte()
        if (mark === NEW_SHAPE) shape = r.shape()
        else if (mark !== SAME_SHAPE || shape === undefined) throw new InvalidArgumentError(`Corrupt shared snapshot: record mark ${mark}`)
        records[i] = Object.freeze(shape.read(r)) as Rec
      }
      return { ...table, records }
    }),
  }
}

export function decodeState(bytes: Uint8Array): DatabaseState {
  const state = deserialize(bytes) as DatabaseState
  for (const table of state.tables) for (const rec of table.records) freezeDecoded(rec)
  return state
}

/** Whether a definition's schema is the mark of a Standard Schema left in another thread. */
export function isSchemaMark(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as { $standardSchema?: unknown }).$standardSchema === true
}

/** Freezes a freshly decoded value in place; Dates become {@link FrozenDate}s. */
function freezeDecoded(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return Object.freeze(new FrozenDate(value.getTime()))
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = freezeDecoded(value[i])
  } else {
    const obj = value as Record<string, unknown>
    for (const k in obj) obj[k] = freezeDecoded(obj[k])
  }
  return Object.freeze(value)
}
