// The insertion rank a delete removed, kept on its change (TableStore.apply, undo, deletedSeq).
import type { RecordChange } from './change'

/**
 * The insertion rank a delete removed, kept on its change (so that undoing the delete puts the
 * record back in place, and a view can still place the old record) when it is not the key. A
 * symbol and not enumerable: the change, which listeners get, looks and compares the same. Not a
 * WeakMap beside the store: an entry per deleted record made the collector's ephemeron work a
 * 25-30 ms pause in a TTL sweep of 100k records.
 */
const RANK = Symbol('dictdb.rank')
type RankedChange = RecordChange & { readonly [RANK]?: number }

/** Keeps on delete `change` the insertion rank it removed (when the rank is not the key). */
export function keepRank(change: RecordChange, rank: number): void {
  Object.defineProperty(change, RANK, { value: rank, writable: true, configurable: true })
}

/** The insertion rank an applied delete `change` removed: the one kept, else an integer key's own. */
export function deletedRank(change: RecordChange): number | undefined {
  if (change.after !== undefined) return undefined
  return (change as RankedChange)[RANK] ?? (typeof change.key === 'number' ? change.key : undefined)
}
