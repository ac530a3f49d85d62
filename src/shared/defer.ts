import type { Key } from '../values/types'
import { openSinglePatch, patchFieldsOffset, readPatchKey } from './codec'
import type { SharedLog } from './log'

/** What an append checks against the entries it defers: whether it changes a given record. */
export interface RecordWrite {
  touches(table: string, key: Key): boolean
}

/** Whether two keys name one record: SameValueZero, as the store's Map compares keys. */
export function sameKey(a: Key, b: Key): boolean {
  return a === b || (a !== a && b !== b)
}

/**
 * The entries {@link patchesBeside} read, each one patch: its table, key, and where its fields
 * start in the log's buffer (applying them later does not read their heads again). Reused.
 */
export class OpenedPatches {
  readonly tables: string[] = []
  readonly keys: Key[] = []
  readonly fieldsAt: number[] = []

  /** Forgets every entry. */
  clear(): void {
    this.tables.length = this.keys.length = this.fieldsAt.length = 0
  }
}

/**
 * Whether each of the first `count` entries of `log`'s last read is one patch (an update by key)
 * of a record that `write` does not change: such entries can be applied after `write` is
 * appended, in either order, with the same result. Notes each one's table, key and fields in `into`.
 */
export function patchesBeside(log: SharedLog, count: number, write: RecordWrite, into: OpenedPatches): boolean {
  for (let i = 0; i < count; i++) {
    const table = openSinglePatch(log.bytes, log.start(i), log.start(i) + log.length(i))
    if (table === null) return false
    const key = readPatchKey()
    if (write.touches(table, key)) return false
    into.tables[i] = table
    into.keys[i] = key
    into.fieldsAt[i] = patchFieldsOffset()
  }
  return true
}
