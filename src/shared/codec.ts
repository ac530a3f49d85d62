import { BinaryWriter, putFlat } from '../values/binary'
import { hasFields } from '../values/own-field'
import { compilePatchWriter, encodedBytes, encodedName, encoderOf, encoderOfFields, type EncodedName, type EncodeShape, type PatchWriter } from '../values/binary-shapes'
import type { Key, Rec } from '../values/types'
import { KIND_BASE, OP_KINDS, PATCH_KIND, type WireOp, type WireRecord } from './wire'

// The log's entries are encoded here, decoded in ops-decode.ts; snapshots are state-codec.ts's.
export type { WireOp, WireRecord } from './wire'
export { decodeOps, openSinglePatch, patchFieldsOffset, readPatchCount, readPatchFields, readPatchFieldsOf, readPatchKey, readPatchName, readPatchValue, seekPatchFields } from './ops-decode'
export { decodeSnapshot, decodeState, encodeSnapshot, encodeState, isSchemaMark, portableDefinition, STANDARD_SCHEMA_MARK } from './state-codec'

const writer = new BinaryWriter()
/** Writes a patch commit's head once per table (see `tableName`). */
const headWriter = new BinaryWriter()

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
