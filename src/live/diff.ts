// The diffs a live view reports: by identity for a window of rows with keys, by content for a
// `distinct` result (its rows have none).
import { encode } from '../values/canonical'
import type { Rec } from '../values/types'
import type { WatchedQuery } from './query'
import type { Window } from './window'

/** What changed in a watched result: rows as the query returns them. */
export interface WatchDiff<T> {
  /** Rows that entered the result. */
  added: T[]
  /** Rows that left it (as they were). */
  removed: T[]
  /** Rows that stayed but were updated (content or place), as they are now. */
  changed: T[]
}

/**
 * What the last commit changed in the window, from what each touched row was before it; with
 * `rerun` (the window was filled again), every row not touched counts as added too.
 */
export function windowDiff(w: Window, q: WatchedQuery, rerun: boolean): WatchDiff<Rec> {
  const diff: WatchDiff<Rec> = { added: [], removed: [], changed: [] }
  for (const [key, was] of w.touched) {
    const now = w.byKey.get(key)
    if (was.entry === undefined) {
      if (now !== undefined) diff.added.push(now.out)
    } else if (now === undefined) diff.removed.push(was.entry.out)
    else if (now.rec !== was.entry.rec && (!q.sameOut(was.entry, now) || w.indexOf(now) !== was.index)) diff.changed.push(now.out)
  }
  if (rerun) for (const e of w.rows) if (!w.touched.has(e.key)) diff.added.push(e.out)
  return diff
}

/** The records the last commit put in the window. */
export function touchedRecs(w: Window): Rec[] {
  const out: Rec[] = []
  for (const key of w.touched.keys()) {
    const entry = w.byKey.get(key)
    if (entry !== undefined) out.push(entry.rec)
  }
  return out
}

/** Whether two results hold the same row contents in the same order. */
export function sameRows(old: readonly Rec[], now: readonly Rec[]): boolean {
  return old.length === now.length && old.every((r, i) => encode(r) === encode(now[i]))
}

/** The difference of two results compared as multisets of row contents. */
export function contentDiff(old: readonly Rec[], now: readonly Rec[]): WatchDiff<Rec> {
  const left = new Map<string, Rec[]>()
  for (const r of old) {
    const k = encode(r)
    const list = left.get(k)
    if (list === undefined) left.set(k, [r])
    else list.push(r)
  }
  const added: Rec[] = []
  for (const r of now) {
    const list = left.get(encode(r))
    if (list !== undefined && list.length > 0) list.pop()
    else added.push(r)
  }
  const removed = [...left.values()].flat()
  return { added, removed, changed: [] }
}
