// A table store's index upkeep beside TableStore: building an index over its records, moving a record in one.
import { DuplicateKeyError } from '../errors'
import { createIndex } from '../indexes/create'
import type { Index, IndexSpec } from '../indexes/types'
import { canonical } from '../values/canonical'
import { equals } from '../values/compare'
import { preview, shortName } from '../values/describe'
import { fieldOf } from '../values/own-field'
import type { Key, Rec } from '../values/types'

/** What {@link buildIndex} reads of the table's store. */
interface Stored {
  readonly name: string
  keyOf(rec: Rec): Key
  expired(rec: Rec, now?: number): boolean
}

/** An index of `spec` over `records` (of `store`); a unique one refuses existing duplicates. */
export function buildIndex(store: Stored, records: Iterable<Rec>, spec: Required<IndexSpec>): Index {
  const index = createIndex(spec.field, spec.type, spec.unique)
  const seen = spec.unique ? new Map<unknown, Key>() : null
  const now = Date.now()
  for (const rec of records) {
    const key = store.keyOf(rec)
    const value = fieldOf(rec, spec.field)
    // An expired record is as good as deleted (the sweep will): it holds no unique value.
    if (seen !== null && value != null && !store.expired(rec, now)) {
      const c = canonical(value)
      const other = seen.get(c)
      if (other !== undefined) {
        throw new DuplicateKeyError(
          `Cannot create unique index on \`${shortName(store.name)}.${shortName(spec.field)}\`: records ${preview(other)} and ${preview(key)} share the value ${preview(value)}`,
          { table: store.name, field: spec.field, key },
        )
      }
      seen.set(c, key)
    }
    index.add(key, value)
  }
  return index
}

/** Whether a merge's list (field, value, field, value…) sets `field`. */
export function listSets(sets: readonly unknown[], field: string): boolean {
  for (let i = 0; i < sets.length; i += 2) if (sets[i] === field) return true
  return false
}

/** Moves record `key` in `index` from value `a` to value `b`, if they differ. */
export function reindex(index: Index, key: Key, a: unknown, b: unknown): void {
  if (a === b || equals(a, b)) return
  index.remove(key, a)
  index.add(key, b)
}

