import { deserialize, serialize } from 'node:v8'
import { InvalidArgumentError } from '../errors'
import { isStandardSchema } from '../schema'
import type { DatabaseState, FieldPatch, Op, TableDefinition, TableState } from '../storage/change'
import type { IndexSpec } from '../indexes/types'
import { BinaryReader, BinaryWriter, RecentStrings, RepeatedString, putFlat } from '../values/binary'
import { compilePatchWriter, encodedBytes, encodedName, encoderOf, encoderOfFields, hasFields, type DecodeShape, type EncodedName, type EncodeShape, type PatchWriter } from '../values/binary-shapes'
import { FrozenDate } from '../values/freeze'
import type { Key, Rec } from '../values/types'

/**
 * An op as it crosses threads: records travel without `before` (a replica reads it from its own
 * state), a created table carries its lock slot. An update whose record keeps its fields may
 * travel as a `patch`: only the fields that changed, as `[name, value, name, value, …]`, which
 * each replica lays over its own copy of the record (by name: replicas may hold a record's
 * fields in different orders).
 */
export type WireOp =
  | WireRecord
  | { readonly type: 'patch'; readonly table: string; readonly key: Key; readonly fields: readonly unknown[] }
  | { readonly type: 'createTable'; readonly table: string; readonly definition: TableDefinition; readonly lockSlot: number }
  | Exclude<Op, { type: 'record' } | { type: 'createTable' }>

/**
 * A record op. `before`, when given, is the record every replica holds at this op's place in the
 * log (a shared database's own commits): an update of it may then be encoded as a patch.
 */
export interface WireRecord {
  readonly type: 'record'
  readonly table: string
  readonly key: Key
  readonly after: Rec | undefined
  readonly before?: Rec | undefined
}

/** Marks a Standard Schema validator, which cannot cross threads: each thread re-attaches its own. */
export const STANDARD_SCHEMA_MARK = Object.freeze({ $standardSchema: true })

/** A definition that can be serialized: a Standard Schema validator becomes a mark. */
export function portableDefinition(def: TableDefinition): TableDefinition {
  return isStandardSchema(def.schema) ? { ...def, schema: STANDARD_SCHEMA_MARK } : def
}

const OP_KINDS = ['record', 'createTable', 'dropTable', 'createIndex', 'dropIndex', 'patch'] as const
const PATCH_KIND = OP_KINDS.indexOf('patch')
/**
 * An op's kind is one byte, `KIND_BASE + index`. The first layout wrote it as a tagged int (tag
 * byte 4, then 4 bytes): entries written that way (a PostgreSQL log) are still read.
 */
const KIND_BASE = 16
const KIND_AS_INT = 4
const writer = new BinaryWriter()
/** Writes a patch commit's head once per table (see `tableName`). */
const headWriter = new BinaryWriter()
const reader = new BinaryReader(new Uint8Array(0))
/** The last table name and patched field name decoded. */
/** The table names decoded last: a thread mostly applies patches of a few tables in turn (one slot alone was replaced, and its name decoded and hashed again, at every change of table). */
const tableNames = new RecentStrings(4)
const fieldNames = new RepeatedString()

/** Encodes a commit's ops compactly (the bytes are a copy, safe to keep); no patches. */
export function encodeOps(ops: readonly WireOp[]): Uint8Array {
  writer.reset()
  writeOps(writer, ops, false)
  return writer.copy()
}

/** A commit encoded in the encoder's own buffer: its first `length` bytes, valid until the next encoding. */
export interface EncodedOps {
  readonly bytes: Uint8Array
  /** The same buffer as 32-bit words. */
  readonly words: Int32Array
  readonly length: number
}

/**
 * Encodes a commit's ops in place. A copy of a few hundred bytes costs more than encoding them
 * (a new array buffer each time): the shared log copies these straight into its ring. Updates
 * that carry their `before` go as patches: only the changed fields are encoded (and decoded by
 * every other replica), which spares reading and copying the rest, strings above all.
 */
export function encodeOpsInPlace(ops: readonly WireOp[]): EncodedOps {
  writer.reset()
  writeOps(writer, ops, true)
  return writer
}

/**
 * Writes a commit's ops, as {@link encodeOpsInPlace} encodes them, into `w` from where it stands
 * (a writer over a shared log's ring: `BinaryWriter.over`).
 */
export function encodeOpsInto(w: BinaryWriter, ops: readonly WireOp[]): void {
  writeOps(w, ops, true)
}

function writeOps(w: BinaryWriter, ops: readonly WireOp[], patches: boolean): void {
  w.uint(ops.length)
  for (const op of ops) {
    if (patches && op.type === 'record' && writePatch(w, op)) continue
    w.byte(KIND_BASE + OP_KINDS.indexOf(op.type))
    w.string(op.table, -1)
    switch (op.type) {
      case 'record':
        w.value(op.key)
        w.value(op.after)
        break
      case 'createTable':
        w.value(op.definition)
        w.uint(op.lockSlot)
        break
      case 'createIndex':
        w.value(op.index)
        break
      case 'dropIndex':
        w.string(op.field, -1)
        break
    }
  }
}

/** Writes a record op as a patch if it is an update that keeps its record's fields, in order. */
function writePatch(w: BinaryWriter, op: WireRecord): boolean {
  const { before, after } = op
  if (before === undefined || after === undefined) return false
  const shape = encoderOf(after)
  if (!hasFields(before, shape.fields)) return false
  writePatchOf(w, op.table, op.key, before, after, shape)
  return true
}

/**
 * Encodes in place, as {@link encodeOpsInPlace} encodes `[op]` (the same bytes: one patch), an
 * update by key whose `before` and `after` both have exactly `fields`, in that order, as the
 * caller vouches (`TableStore.vouchedFields`): the commonest shared write skips finding the
 * record's shape (two walks of its fields) and the generic op loop.
 */
export function encodePatchInPlace(op: WireRecord & { readonly before: Rec; readonly after: Rec }, fields: readonly string[]): EncodedOps {
  writer.reset()
  encodePatchInto(writer, op, fields)
  return writer
}

/** Writes what {@link encodePatchInPlace} encodes into `w` from where it stands (see {@link encodeOpsInto}). */
export function encodePatchInto(w: BinaryWriter, op: WireRecord & { readonly before: Rec; readonly after: Rec }, fields: readonly string[], one: string | null = null): void {
  // The compiled writer of this table and shape first (no writer method per value); if it
  // cannot write it (not room enough, a bigint), the writer does, from the same position.
  const patch = one === null ? patchWriterOf(op.table, fields) : onePatchWriterOf(op.table, one)
  const end = patch === null ? -1 : patch(w.bytes, w.view, w.length, w.limit, op.key, op.before, op.after)
  if (end >= 0) return w.skipTo(end)
  // The op count (1), the patch kind and the table's name, as bytes encoded once per table.
  w.name(patchHead(op.table))
  writePatchBody(w, op.key, op.before, op.after, encoderOfFields(fields))
}

/** A table's compiled patch writer, and the field list (a table shape's, by identity) it is for. */
interface TablePatch {
  readonly table: string
  readonly fields: readonly string[]
  readonly write: PatchWriter | null
}

/** Per table name, its last {@link TablePatch}: a table's records mostly keep one shape. */
const tablePatches = new Map<string, TablePatch>()
/** Compiled writers by table and fields (a table whose shape changes back and forth compiles each once). */
const compiledPatches = new Map<string, PatchWriter | null>()
/** Past this many compiled writers, writes of further shapes go the general way. */
const MAX_PATCH_WRITERS = 2000
let lastTablePatch: TablePatch | undefined

/** The compiled writer of a one-patch commit of `table` whose records have exactly `fields`, or null. */
function patchWriterOf(table: string, fields: readonly string[]): PatchWriter | null {
  const last = lastTablePatch
  if (last !== undefined && last.table === table && last.fields === fields) return last.write
  let known = tablePatches.get(table)
  if (known === undefined || known.fields !== fields) {
    known = { table, fields, write: compiledPatch(table, fields) }
    // Names of tables long dropped are not kept for ever.
    if (tablePatches.size >= MAX_PATCH_WRITERS) tablePatches.clear()
    tablePatches.set(table, known)
  }
  // The map's own entry (no copy made at each change of table).
  lastTablePatch = known
  return known.write
}

interface OnePatch {
  readonly table: string
  readonly field: string
  readonly write: PatchWriter | null
}
/**
 * Per table name, the one-field writer it used last: a thread that updates one field of each of
 * several tables in turn finds each table's own, not only the last one used (which, alone, was
 * missed at every change of table: a signature made and looked up each time).
 */
const onePatches = new Map<string, OnePatch>()
let lastOne: OnePatch | undefined
/** The compiled writer of a patch of `table` that may set `field` alone (the others are the record's own), or null. */
export function onePatchWriterOf(table: string, field: string): PatchWriter | null {
  const last = lastOne
  if (last !== undefined && last.table === table && last.field === field) return last.write
  let known = onePatches.get(table)
  if (known === undefined || known.field !== field) {
    known = { table, field, write: compiledPatch(table, [field]) }
    // Names of tables long dropped are not kept for ever.
    if (onePatches.size >= MAX_PATCH_WRITERS) onePatches.clear()
    onePatches.set(table, known)
  }
  lastOne = known
  return known.write
}

function compiledPatch(table: string, fields: readonly string[]): PatchWriter | null {
  // JSON: unambiguous whatever the names hold.
  const signature = JSON.stringify([table, fields])
  let write = compiledPatches.get(signature)
  if (write === undefined) {
    if (compiledPatches.size >= MAX_PATCH_WRITERS) return null
    const head = new BinaryWriter(16)
    head.uint(1)
    head.byte(KIND_BASE + PATCH_KIND)
    head.string(table, -1)
    write = compilePatchWriter(head.finish(), fields, putFlat)
    compiledPatches.set(signature, write)
  }
  return write
}

function writePatchOf(w: BinaryWriter, table: string, key: Key, before: Rec, after: Rec, shape: EncodeShape): void {
  w.byte(KIND_BASE + PATCH_KIND)
  w.name(tableName(table))
  writePatchBody(w, key, before, after, shape)
}

function writePatchBody(w: BinaryWriter, key: Key, before: Rec, after: Rec, shape: EncodeShape): void {
  w.value(key)
  const at = w.length
  w.uint(0)
  w.setUint(at, shape.diff(before, after, w))
}

/** The last table name written, encoded (names repeat from write to write). */
let lastTable = ''
let lastTableBytes = encodedName('')
/** A commit of one patch of that table, up to its key: op count 1, the patch kind, the table's name. */
let lastPatchHead = encodedName('')

function tableName(table: string): EncodedName {
  if (table !== lastTable) {
    headWriter.uint(1)
    headWriter.byte(KIND_BASE + PATCH_KIND)
    headWriter.string(table, -1)
    lastPatchHead = encodedBytes(headWriter.finish())
    lastTableBytes = encodedName(table)
    lastTable = table
  }
  return lastTableBytes
}

function patchHead(table: string): EncodedName {
  tableName(table)
  return lastPatchHead
}

/**
 * Decodes ops (from `bytes[start, end)`, all of it by default); their records come out
 * deep-frozen, the way the store keeps them.
 */
export function decodeOps(bytes: Uint8Array, start = 0, end = bytes.length): WireOp[] {
  reader.reset(bytes, start, end)
  const ops: WireOp[] = new Array(reader.uint())
  for (let i = 0; i < ops.length; i++) {
    const kind = reader.byte()
    const type = OP_KINDS[kind === KIND_AS_INT ? reader.uint() : kind - KIND_BASE]
    // Table names repeat from op to op: the last one is not decoded again.
    const table = reader.recentString(tableNames)
    switch (type) {
      case 'record':
        ops[i] = { type, table, key: reader.value() as Key, after: reader.value() as Rec | undefined }
        break
      case 'createTable':
        ops[i] = { type, table, definition: reader.value() as TableDefinition, lockSlot: reader.uint() }
        break
      case 'dropTable':
        ops[i] = { type, table }
        break
      case 'patch':
        ops[i] = { type, table, key: reader.value() as Key, fields: readPatch() }
        break
      case 'createIndex':
        ops[i] = { type, table, index: reader.value() as Required<IndexSpec> }
        break
      case 'dropIndex':
        ops[i] = { type, table, field: reader.string() }
        break
      default:
        // A kind this build does not know (a newer writer, or corrupt bytes): never guessed.
        throw new InvalidArgumentError(`Corrupt change set: unknown op kind ${String(kind)}`)
    }
  }
  return ops
}

/**
 * Starts reading `bytes[start, end)` if it is a commit of one patch and nothing else (an update by
 * key, the commonest entry by far): returns its table, and leaves its key to {@link readPatchKey}
 * and its fields to {@link readPatchInto}; else null. Decoding straight into the record spares the
 * ops array, the op and the fields array that {@link decodeOps} builds for it.
 */
export function openSinglePatch(bytes: Uint8Array, start: number, end: number): string | null {
  reader.reset(bytes, start, end)
  if (reader.uint() !== 1 || reader.byte() !== KIND_BASE + PATCH_KIND) return null
  return reader.recentString(tableNames)
}

/** The key of the patch {@link openSinglePatch} opened (read once, before its fields). */
export function readPatchKey(): Key {
  return reader.value() as Key
}

/** Where the fields of the patch whose key {@link readPatchKey} just read start (for {@link readPatchFieldsAt}). */
export function patchFieldsOffset(): number {
  return reader.offset
}

/**
 * The fields of a patch whose fields start at `bytes[at]` (a {@link patchFieldsOffset}) and whose
 * entry ends at `end`: its head, read once already, is not read again.
 */
export function readPatchFieldsAt(bytes: Uint8Array, at: number, end: number): FieldPatch {
  reader.reset(bytes, at, end)
  return readPatchFields()
}

/** The fields of the patch last read by {@link readPatchFields} (its arrays reused). */
const patchFields = { names: [] as string[], values: [] as unknown[], count: 0 }
/** The name last read at each place of a patch (a patch mostly sets the fields of the one before). */
const patchNames: RepeatedString[] = []

/**
 * The fields of the patch {@link openSinglePatch} opened, read after its key: valid until the next
 * patch is read (the arrays are reused: no allocation but for the values).
 */
export function readPatchFields(): FieldPatch {
  const out = patchFields
  const count = reader.uint()
  for (let i = 0; i < count; i++) {
    const last = patchNames[i] ?? (patchNames[i] = new RepeatedString())
    out.names[i] = reader.repeatedString(last)
    out.values[i] = reader.value()
  }
  out.count = count
  return out
}

/** A patch's fields: `[name, value, …]` (a field that changes mostly changes again: its name is not decoded again). */
function readPatch(): unknown[] {
  const fields = new Array<unknown>(2 * reader.uint())
  for (let i = 0; i < fields.length; i += 2) {
    fields[i] = reader.repeatedString(fieldNames)
    fields[i + 1] = reader.value()
  }
  return fields
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
