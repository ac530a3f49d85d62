// Decoding of the ops ./codec.ts encodes (log entries): records come out deep-frozen; a patch may be read field by field, without objects.
import { InvalidArgumentError } from '../errors'
import type { FieldPatch, TableDefinition } from '../storage/change'
import type { IndexSpec } from '../indexes/types'
import { BinaryReader, RecentStrings, RepeatedString } from '../values/binary'
import type { Key, Rec } from '../values/types'
import { KIND_AS_INT, KIND_BASE, OP_KINDS, PATCH_KIND, type WireOp } from './wire'

const reader = new BinaryReader(new Uint8Array(0))
/** The table names decoded last: a thread mostly applies patches of a few tables in turn (one slot alone was replaced, and its name decoded and hashed again, at every change of table). */
const tableNames = new RecentStrings(4)
/** The patched field name decoded last. */
const fieldNames = new RepeatedString()

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

/** Where the fields of the patch whose key {@link readPatchKey} just read start (for {@link seekPatchFields}). */
export function patchFieldsOffset(): number {
  return reader.offset
}

/** The fields of the patch last read by {@link readPatchFields} (its arrays reused). */
const patchFields = { names: [] as string[], values: [] as unknown[], count: 0 }
/** The name last read at each place of a patch (a patch mostly sets the fields of the one before). */
const patchNames: RepeatedString[] = [new RepeatedString()]

/**
 * The fields of the patch {@link openSinglePatch} opened, read after its key: valid until the next
 * patch is read (the arrays are reused: no allocation but for the values).
 */
export function readPatchFields(): FieldPatch {
  return readPatchFieldsOf(reader.uint())
}

/**
 * How many fields the patch being read sets (read after its key, or from {@link seekPatchFields}):
 * one is read by {@link readPatchName} then {@link readPatchValue} (no arrays), any number by
 * {@link readPatchFieldsOf}.
 */
export function readPatchCount(): number {
  return reader.uint()
}

/** Makes the fields of a patch (at `bytes[at]`, a {@link patchFieldsOffset}, to `end`) the next read. */
export function seekPatchFields(bytes: Uint8Array, at: number, end: number): void {
  reader.reset(bytes, at, end)
}

/** The name of a patch's one field, after {@link readPatchCount} gave 1. */
export function readPatchName(): string {
  return reader.repeatedString(patchNames[0] as RepeatedString)
}

/** The value of that field, read after its name. */
export function readPatchValue(): unknown {
  return reader.value()
}

/** The `count` fields ({@link readPatchCount}) of the patch being read, as {@link readPatchFields} gives them. */
export function readPatchFieldsOf(count: number): FieldPatch {
  const out = patchFields
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
