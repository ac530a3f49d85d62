// A database's whole state: the shared snapshot (binary records) and the structured-clone state (PostgreSQL), and definitions made fit to cross threads.
import { deserialize, serialize } from 'node:v8'
import { InvalidArgumentError } from '../errors'
import { isStandardSchema } from '../schema'
import type { DatabaseState, TableDefinition, TableState } from '../storage/change'
import { BinaryReader, BinaryWriter } from '../values/binary'
import { encoderOf, type DecodeShape, type EncodeShape } from '../values/binary-shapes'
import { FrozenDate } from '../values/freeze'
import { ownsKey } from '../values/own-field'
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
 * A shared database's snapshot (`Replica`), read only by threads of this build:
 * `[metaStart u32][table]*[meta]`. Each table is its records with the binary value codec
 * (`[count u32]` then chunks of {@link CHUNK} records), whose compiled per-shape writers encode a
 * table of flat records 3–4× faster than a structured clone; `meta`, at `metaStart`, is the tables'
 * definitions, auto keys and lock slots as one structured-clone block. Last, so that its length
 * (it changes with an auto key's digits) moves no record. A writer encodes the whole database
 * each time the ring drops commits the last snapshot does not cover. `sizeHint`: the bytes the
 * last one took (the buffer is made that large at once).
 *
 * `chunks`: what the last encoding into `into`'s buffer left there (see {@link SnapshotChunks});
 * the caller vouches that those bytes are still there. Updated to this encoding.
 */
export function encodeSnapshot(state: DatabaseState, sizeHint = 0, into?: BinaryWriter, chunks?: SnapshotChunks): Uint8Array {
  // `into`: a writer kept from the last snapshot (its buffer's pages are resident: a fresh one of a
  // few MiB costs a page fault per 4 KiB), or one over the shared buffer. The bytes returned are
  // then valid until its next use.
  const out = into ?? new BinaryWriter(sizeHint + 4096)
  out.reset()
  out.uint(0) // metaStart, set at the end
  // The last encoding's bytes stay where they were while nothing wrote over them: everything
  // before `out.length` is written anew (a writer that grew copied only those bytes, see `before`).
  const buffer = out.bytes
  const encoded = new Map<string, EncodedTable>()
  for (const table of state.tables) {
    const records = table.records
    out.uint(records.length)
    const before = chunks?.tables.get(table.definition.name)
    const starts = new Array<number>(Math.ceil(records.length / CHUNK) + 1)
    const start = out.length
    for (let i = 0, c = 0; i < records.length; i += CHUNK, c++) {
      const end = Math.min(i + CHUNK, records.length)
      // With no kept writer nor earlier snapshot to size it, room for the rest of the table
      // is made once, as its first records take it (over a fixed range that is too short, the
      // writer throws `WRITER_FULL`, and `chunks.wanted` says how much its caller should make).
      if (i === SIZING_SAMPLE) {
        const rest = Math.ceil(((out.length - start) / SIZING_SAMPLE) * (records.length - i) * 1.125)
        if (chunks !== undefined) chunks.wanted = out.length + rest
        out.reserve(rest)
      }
      const at = out.length
      starts[c] = at
      const from = before !== undefined && out.bytes === buffer && sameChunk(before, records, i, end) ? (before.starts[c] as number) : -1
      if (from >= at) {
        // The same records, their bytes not written over: moved back if an earlier chunk shrank.
        const to = before?.starts[c + 1] as number
        if (from > at) out.bytes.copyWithin(at, from, to)
        out.skipTo(at + to - from)
      } else {
        encodeChunk(out, records, i, end)
      }
    }
    starts[starts.length - 1] = out.length
    encoded.set(table.definition.name, { records, starts })
  }
  const meta = serialize(state.tables.map((t) => ({ definition: portableDefinition(t.definition), nextAutoKey: t.nextAutoKey, lockSlot: t.lockSlot })))
  const metaStart = out.length
  out.raw(meta)
  out.setUint(0, metaStart)
  if (chunks !== undefined) chunks.tables = encoded
  return out.finish()
}

/**
 * Records of a table per chunk of a snapshot. Each chunk starts with its shape's names, so a
 * chunk of the same records (the same frozen objects, which never change) as the last snapshot's
 * is the same bytes, left where they are (or moved) instead of encoded again: between two
 * snapshots (one per pass of the ring) a busy database often writes a small part of its records.
 * A names block more per chunk (~50 bytes for 5 fields) costs ~0.2 bytes per record.
 */
const CHUNK = 256

/** A table as the last snapshot encoded it: its records (the list, kept) and where each chunk starts. */
interface EncodedTable {
  readonly records: readonly Rec[]
  /** Byte offsets of each chunk, then of the table's end. */
  readonly starts: readonly number[]
}

/**
 * Where a writer's last snapshot encoding left each table's chunks in its buffer, for the next
 * encoding into that buffer (`encodeSnapshot`). It keeps the records of that snapshot alive until
 * the next (an older version of each record written since, at most).
 */
export class SnapshotChunks {
  tables = new Map<string, EncodedTable>()
  /** Bytes the encoding is expected to need, from a large table's first records (0: no guess). */
  wanted = 0
}

/** Whether records `[from, to)` are chunk `from / CHUNK` of `before`, the same objects. */
function sameChunk(before: EncodedTable, records: readonly Rec[], from: number, to: number): boolean {
  const old = before.records
  if (Math.min(from + CHUNK, old.length) !== to) return false
  for (let i = from; i < to; i++) if (old[i] !== records[i]) return false
  return true
}

/** Writes records `[from, to)`, the first with its shape's names. */
function encodeChunk(out: BinaryWriter, records: readonly Rec[], from: number, to: number): void {
  let last: EncodeShape | undefined
  for (let i = from; i < to; i++) {
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

/** Records of a table encoded before the snapshot's room for the rest is made (see `BinaryWriter.reserve`). */
const SIZING_SAMPLE = 1024

/** Before each record of a snapshot: its names block follows, or it has the shape of the one before. */
const NEW_SHAPE = 0
const SAME_SHAPE = 1

/** Reads a snapshot {@link encodeSnapshot} wrote; its records come out deep-frozen, as stored. */
export function decodeSnapshot(bytes: Uint8Array): DatabaseState {
  const metaStart = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const tables = deserialize(bytes.subarray(metaStart)) as Omit<TableState, 'records'>[]
  const r = new BinaryReader(bytes)
  r.reset(bytes, 4, metaStart)
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
    for (const k in obj) {
      // Own fields only: for…in also lists what a library may have put on Object.prototype, and
      // the assignment would make it a field of every record.
      if (ownsKey(obj, k)) obj[k] = freezeDecoded(obj[k])
    }
  }
  return Object.freeze(value)
}
