import type { IndexSpec } from '../indexes/types'
import type { Catalog } from '../catalog'
import { recordChange, type DatabaseState, type FieldPatch, type Op, type RecordChange } from '../storage/change'
import type { Transactions } from '../txn/transactions'
import type { Key, Rec } from '../values/types'
import type { TableStore } from '../storage/table-store'
import { InvalidStateError } from '../errors'
import { preview, shortName } from '../values/describe'
import { openSinglePatch, portableDefinition, readPatchCount, readPatchFieldsOf, readPatchKey, readPatchName, readPatchValue, seekPatchFields, type WireOp } from './codec'
import type { ReplicaHost } from './replica'

/** How a database's catalog serves as the replica of a shared database in this thread. */
export function replicaHost(
  catalog: Catalog,
  tx: Transactions,
  reportError: (error: unknown) => void = (error) => console.error('dictdb:', error),
): ReplicaHost {
  return {
    applyRemote: (ops, publish, position) => applyRemote(catalog, tx, ops, publish, position),
    applyPatch: (bytes, start, end) => !tx.listened && applyPatch(catalog, bytes, start, end),
    applyPatchFields: (table, key, bytes, at, end) => {
      seekPatchFields(bytes, at, end)
      applyFields(catalog, table, key)
    },
    listened: () => tx.listened,
    rawState: (listFor) => catalog.state(catalog.contexts(), true, listFor),
    resetFromState: (state) => resetFromState(catalog, tx, state),
    reportError,
  }
}

/**
 * A commit's ops as they are appended to the shared log. Record changes go as they are (the codec
 * reads no `before`): only catalog changes are rewritten.
 */
export function wireOps(catalog: Catalog, ops: readonly Op[]): readonly WireOp[] {
  for (const op of ops) if (op.type !== 'record') return ops.map((o) => toWire(catalog, o))
  return ops as readonly RecordChange[]
}

/** An op as it is appended to the shared log. */
export function toWire(catalog: Catalog, op: Op): WireOp {
  if (op.type === 'record') return { type: 'record', table: op.table, key: op.key, after: op.after }
  if (op.type !== 'createTable') return op
  return { type: 'createTable', table: op.table, definition: portableDefinition(op.definition), lockSlot: catalog.context(op.table).lockSlot }
}

/** Applies ops another thread committed, and tells this thread's listeners. */
function applyRemote(catalog: Catalog, tx: Transactions, ops: readonly WireOp[], publish: boolean, position?: number): void {
  // Nobody listens: no list of the changes applied to keep (most commits of a busy database).
  const applied: Op[] | null = publish && tx.listened ? [] : null
  for (const op of ops) {
    if (op.type === 'record' || op.type === 'patch') {
      const store = catalog.context(op.table).store
      const before = store.get(op.key)
      const after = op.type === 'record' ? op.after : patched(store, before, op)
      if (before === undefined && after === undefined) continue
      const change = recordChange(op.table, op.key, before, after)
      store.apply(change)
      applied?.push(change)
      continue
    }
    if (op.type === 'createTable') catalog.add(op.definition, op.lockSlot)
    else if (op.type === 'dropTable') catalog.remove(op.table)
    else if (op.type === 'createIndex') catalog.context(op.table).store.addIndex(op.index)
    else catalog.context(op.table).store.removeIndex(op.field)
    applied?.push(op.type === 'createTable' ? { type: 'createTable', table: op.table, definition: op.definition } : op)
  }
  if (applied !== null && applied.length > 0) tx.publish(position === undefined ? { ops: applied } : { ops: applied, position })
}

/**
 * Applies an entry of the log that is one patch, decoded straight into the copy of its record;
 * false, with nothing read or applied, if it is anything else. Called only when nobody listens:
 * then nothing is published, and applying runs no user code (which could read the log again).
 */
function applyPatch(catalog: Catalog, bytes: Uint8Array, start: number, end: number): boolean {
  const table = openSinglePatch(bytes, start, end)
  if (table === null) return false
  applyFields(catalog, table, readPatchKey())
  return true
}

/**
 * Applies the fields of the patch being read (next: its field count) to record `key` of `table`
 * (nobody listens: nothing is published). A patch of one field (the commonest) is read and
 * applied without the arrays of a {@link FieldPatch}.
 */
function applyFields(catalog: Catalog, table: string, key: Key): void {
  const store = catalog.context(table).store
  const before = store.get(key)
  if (before === undefined) throw missingPatched(table, key)
  const count = readPatchCount()
  if (count === 1) store.applyField(key, before, readPatchName(), readPatchValue())
  else store.applyPatch(key, before, readPatchFieldsOf(count))
}

/** The record a patch makes of this replica's copy of it (the same way as `applyFields`). */
function patched(store: TableStore, before: Rec | undefined, op: { table: string; key: Key; fields: readonly unknown[] }): Rec {
  if (before === undefined) throw missingPatched(op.table, op.key)
  return store.patched(before, pairsPatch(op.fields))
}

/** Reused by {@link pairsPatch} (read before the next patch is). */
const pairs = { names: [] as string[], values: [] as unknown[], count: 0 }

/** A decoded patch's `[name, value, …]` as a {@link FieldPatch}. */
function pairsPatch(fields: readonly unknown[]): FieldPatch {
  const count = fields.length >> 1
  for (let i = 0; i < count; i++) {
    pairs.names[i] = fields[2 * i] as string
    pairs.values[i] = fields[2 * i + 1]
  }
  pairs.count = count
  return pairs
}

/** Every replica holds the record a patch was made against: a missing one is a bug. */
function missingPatched(table: string, key: Key): Error {
  return new InvalidStateError(`dictdb internal: a patch of missing record ${preview(key)} in ${shortName(table)}`)
}

/** Replaces the local state by a shared snapshot; tables that persist keep their objects. */
function resetFromState(catalog: Catalog, tx: Transactions, state: DatabaseState): void {
  const names = new Set<string>()
  for (const table of state.tables) {
    const def = table.definition
    names.add(def.name)
    let ctx = catalog.has(def.name) ? catalog.context(def.name) : undefined
    if (ctx === undefined || ctx.lockSlot !== table.lockSlot) {
      if (ctx !== undefined) catalog.remove(def.name)
      catalog.add(def, table.lockSlot)
      ctx = catalog.context(def.name)
    } else {
      ctx.store.clear()
      for (const spec of def.indexes) ctx.store.addIndex(spec as Required<IndexSpec>)
    }
    for (const rec of table.records) {
      ctx.store.apply({ type: 'record', table: def.name, key: rec[def.primaryKey] as Key, before: undefined, after: rec })
    }
    ctx.store.nextAutoKey = Math.max(ctx.store.nextAutoKey, table.nextAutoKey)
  }
  for (const name of catalog.names()) if (!names.has(name)) catalog.remove(name)
  // Changes in between were not delivered one by one: observers that keep deltas start over.
  tx.publish({ ops: [], reset: true })
}
