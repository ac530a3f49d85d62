import type { Key } from '../values/types'
import { openSinglePatch, readPatchKey } from './codec'
import type { SharedLog } from './log'

/** What an append checks against the entries it defers: whether it changes a given record. */
export interface RecordWrite {
  touches(table: string, key: Key): boolean
}

/**
 * Whether each of the first `count` entries of `log`'s last read is one patch (an update by key)
 * of a record that `write` does not change: such entries can be applied after `write` is
 * appended, in either order, with the same result.
 */
export function patchesBeside(log: SharedLog, count: number, write: RecordWrite): boolean {
  for (let i = 0; i < count; i++) {
    const table = openSinglePatch(log.bytes, log.start(i), log.start(i) + log.length(i))
    if (table === null || write.touches(table, readPatchKey())) return false
  }
  return true
}
