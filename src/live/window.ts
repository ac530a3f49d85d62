import type { Key, Rec } from '../values/types'
import type { Ranked } from './query'

/** One row of a live result: the stored record, its insertion rank and what the query returns. */
export interface Entry {
  readonly key: Key
  readonly rec: Rec
  readonly seq: number
  readonly out: Rec
}

/** A row's state before the commit being applied (`entry` undefined: it was not in the result). */
export interface Before {
  readonly entry: Entry | undefined
  readonly index: number
}

/**
 * The rows of a watched query in result order: the matches at sorted positions
 * `[offset, offset + limit)`. A change is placed by binary search; when the window's edge would
 * need a row it does not hold (a row entering before an offset, a hole at the end of a full
 * window), `apply` answers false and the caller re-runs the query.
 */
export class Window {
  rows: Entry[] = []
  /** What the query returns for each row, in the same order (copied cheaply into each result). */
  outs: Rec[] = []
  readonly byKey = new Map<Key, Entry>()
  /** What each row touched by the current commit was before it (for the diff). */
  readonly touched = new Map<Key, Before>()
  /** True when no match sorts after the last row (so a late match can be appended). */
  #complete = true
  readonly #cmp: (a: Ranked, b: Ranked) => number
  readonly #limit: number | undefined
  readonly #offset: number

  constructor(cmp: (a: Ranked, b: Ranked) => number, limit: number | undefined, offset: number) {
    this.#cmp = cmp
    this.#limit = limit
    this.#offset = offset
  }

  /** Whether the window is the whole result (every change can be placed without a re-run). */
  get unbounded(): boolean {
    return this.#limit === undefined && this.#offset === 0
  }

  /** Replaces the rows by a fresh result; `complete`: nothing matched past its last row. */
  reset(rows: Entry[], complete: boolean): void {
    for (let i = 0; i < this.rows.length; i++) this.#touch(this.rows[i] as Entry, i)
    this.rows = rows
    this.outs = rows.map((e) => e.out)
    this.byKey.clear()
    for (const e of rows) this.byKey.set(e.key, e)
    this.#complete = complete
  }

  /**
   * Applies one record change of `key`: `beforeMatch` is its old version if that matched the
   * query (only looked at when the key is not in the window), `next` its new version if it
   * matches. False: re-run the query.
   */
  apply(key: Key, beforeMatch: Ranked | undefined, next: Entry | undefined): boolean {
    if (this.#limit === 0) return true
    const old = this.byKey.get(key)
    if (old === undefined && beforeMatch !== undefined && !this.#isPastEnd(beforeMatch)) return false
    if (old !== undefined && next !== undefined && this.replace(old, next)) return true
    if (old !== undefined) this.#remove(old)
    if (next !== undefined && !this.#place(next)) return false
    const full = this.#limit === undefined || this.rows.length >= this.#limit
    // A row left a window that had more matches after it: the next one must come in.
    return full || this.#complete || old === undefined
  }

  /** Forgets what the last commit touched. */
  settle(): void {
    this.touched.clear()
  }

  /** Where `e` is in the rows. */
  indexOf(e: Entry): number {
    return this.#search(e)
  }

  #isPastEnd(e: Ranked): boolean {
    const last = this.rows[this.rows.length - 1]
    return last !== undefined && this.#cmp(e, last) > 0
  }

  #place(e: Entry): boolean {
    const rows = this.rows
    const first = rows[0]
    if (first === undefined || this.#cmp(e, first) < 0) {
      // Before the window: it shifts an offset window. An empty window that is not the end of
      // the result (a row just left it) gives no bound to place it against.
      if (this.#offset > 0 || (first === undefined && !this.#complete)) return false
      this.#insertAt(e, 0)
      return true
    }
    if (this.#cmp(e, rows[rows.length - 1] as Entry) > 0) {
      if (this.#complete && (this.#limit === undefined || rows.length < this.#limit)) this.#insertAt(e, rows.length)
      else this.#complete = false
      return true
    }
    this.#insertAt(e, this.#search(e))
    return true
  }

  /**
   * Puts `next` in the place of `old` when the order keeps it there (most updates): no shifting.
   * `touch`: false when the caller makes the diff itself (nothing else changes in this commit).
   */
  replace(old: Entry, next: Entry, touch = true): boolean {
    const index = this.#search(old)
    const prev = this.rows[index - 1]
    const after = this.rows[index + 1]
    // At an edge, rows outside the window (before an offset, after a cut) may now sort around it.
    const prevOk = prev === undefined ? this.#offset === 0 : this.#cmp(prev, next) < 0
    const afterOk = after === undefined ? this.#complete : this.#cmp(next, after) < 0
    if (!prevOk || !afterOk) return false
    if (touch) this.#touch(old, index)
    this.rows[index] = next
    this.outs[index] = next.out
    this.byKey.set(next.key, next)
    return true
  }

  #insertAt(e: Entry, index: number): void {
    if (!this.touched.has(e.key)) this.touched.set(e.key, { entry: undefined, index: -1 })
    this.rows.splice(index, 0, e)
    this.outs.splice(index, 0, e.out)
    this.byKey.set(e.key, e)
    if (this.#limit !== undefined && this.rows.length > this.#limit) {
      const last = this.rows[this.rows.length - 1] as Entry
      this.#remove(last)
      this.#complete = false
    }
  }

  #remove(e: Entry): void {
    const index = this.#search(e)
    this.#touch(e, index)
    this.rows.splice(index, 1)
    this.outs.splice(index, 1)
    this.byKey.delete(e.key)
  }

  #touch(e: Entry, index: number): void {
    if (!this.touched.has(e.key)) this.touched.set(e.key, { entry: e, index })
  }

  /** The index of `e` in the rows, or where it would go (the order is total: ties break on seq). */
  #search(e: Entry): number {
    let lo = 0
    let hi = this.rows.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#cmp(this.rows[mid] as Entry, e) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
