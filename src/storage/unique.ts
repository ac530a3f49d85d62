import { DuplicateKeyError } from '../errors'
import type { Index } from '../indexes/types'
import { canonical } from '../values/canonical'
import { equals } from '../values/compare'
import { preview, shortName } from '../values/describe'
import { fieldOf } from '../values/own-field'
import type { Key } from '../values/types'
import type { RecordChange } from './change'
import type { TableStore } from './table-store'

// The checks of a table's unique indexes against a change set, before it is applied. Nulls never
// conflict, and an expired record is as good as deleted (the sweep will): it holds no value.

/** Throws `DuplicateKeyError` if `change` gives `index`'s field a value another record holds. */
export function checkOne(store: TableStore, index: Index, change: RecordChange): void {
  const value = change.after === undefined ? undefined : fieldOf(change.after, index.field)
  if (value == null || (change.before !== undefined && equals(fieldOf(change.before, index.field), value))) return
  const hits: Key[] = []
  index.eq(value, hits)
  for (const key of hits) if (key !== change.key && !expiredKey(store, key)) throw duplicate(store, index, change.key, value, held(key, change))
}

/**
 * {@link checkOne} of a change set, against the state *after* all of it: a value may move from
 * one record of the set to another.
 */
export function checkMany(store: TableStore, index: Index, changes: readonly RecordChange[]): void {
  const changed = new Set<Key>()
  for (const c of changes) changed.add(c.key)
  const taken = new Map<unknown, Key>()
  for (const c of changes) {
    const value = c.after === undefined ? undefined : fieldOf(c.after, index.field)
    if (value == null) continue
    const canon = canonical(value)
    const other = taken.get(canon)
    if (other !== undefined && other !== c.key) throw duplicate(store, index, c.key, value, `records ${preview(other)} and ${preview(c.key)} of one change would both hold it; the change is refused`)
    taken.set(canon, c.key)
    const hits: Key[] = []
    index.eq(value, hits)
    for (const key of hits) if (key !== c.key && !changed.has(key) && !expiredKey(store, key)) throw duplicate(store, index, c.key, value, held(key, c))
  }
}

function expiredKey(store: TableStore, key: Key): boolean {
  const rec = store.get(key)
  return rec === undefined || store.expired(rec)
}

/** The error's `key` is the refused record's; `why` names the record that holds the value too. */
function duplicate(store: TableStore, index: Index, key: Key, value: unknown, why: string): DuplicateKeyError {
  return new DuplicateKeyError(
    `Duplicate value ${preview(value)} for unique index \`${shortName(store.name)}.${shortName(index.field)}\`: ${why}`,
    { table: store.name, field: index.field, key },
  )
}

/** Why `change` is refused when record `holder`, outside it, holds the value. */
function held(holder: Key, change: RecordChange): string {
  const refused = change.before === undefined ? `inserting record ${preview(change.key)}` : `updating record ${preview(change.key)} to it`
  return `record ${preview(holder)} holds it; ${refused} is refused`
}
