import { matchRows, select as runSelect } from '../query/select'
import type { Commit, RecordChange } from '../storage/change'
import type { TableStore } from '../storage/table-store'
import type { CommitListener } from '../txn/transactions'
import type { Rec } from '../values/types'
import { contentDiff, sameRows, touchedRecs, windowDiff, type WatchDiff } from './diff'
import { runWindow, type Ranked, type WatchedQuery } from './query'
import { ExpiryTimer } from './view-expiry'
import { Window, type Entry } from './window'

export type { WatchDiff } from './diff'

/** Called once at once with the current rows, then after each commit that changes them. */
export type WatchCallback<T> = (rows: T[], diff: WatchDiff<T>) => void

/** What a view needs from its table. */
export interface ViewHost {
  readonly table: string
  readonly primaryKey: string
  readonly store: TableStore
  /** Set once the table cannot be read any more (dropped, database closed). */
  isDead(): boolean
  /**
   * Listens to commits; `onClose` runs if the database closes first. `ignores(change)` tells a
   * lone record change whose commit the listener would do nothing with (it need not be
   * published to it). Returns the stop function.
   */
  subscribe(listener: CommitListener, onClose: () => void, ignores?: (change: RecordChange) => boolean): () => void
}

/** Above this many changes to the table in one commit, re-running beats placing each one. */
const BULK = 64

/**
 * A live query (`table.watch`): its rows are kept equal to a fresh `select` by matching each
 * committed record change against the compiled condition, and re-running the query only when a
 * window edge needs a row it does not hold, after a reset, or for a bulk commit.
 *
 * @example
 * ```ts
 * const view = orders.watch({ where: { status: 'open' }, orderBy: '-total', limit: 10 }, (rows, diff) => {
 *   console.log(rows.length, 'open orders;', diff.added.length, 'new')
 * })
 * view.rows   // the current top 10, read-only
 * view.close()
 * ```
 */
export class LiveView<T = Rec> {
  readonly #host: ViewHost
  readonly #q: WatchedQuery
  readonly #callback: WatchCallback<T>
  readonly #window: Window
  /** The result of a `distinct` query (maintained by re-running: rows have no identity). */
  #distinct: Rec[] = []
  #snapshot: T[] | null = null
  #rerun = false
  #off: (() => void) | null = null
  readonly #expiry: ExpiryTimer

  /** @internal Views are made by `table.watch`, under the table's read lock. */
  constructor(host: ViewHost, query: WatchedQuery, callback: WatchCallback<T>) {
    this.#host = host
    this.#q = query
    this.#callback = callback
    this.#window = new Window(query.cmp, query.limit, query.offset)
    this.#expiry = new ExpiryTimer(host.store.ttl, () => this.#expire())
    // A fresh select checks what compiling alone cannot (fields a schema lacks) and fills a distinct view.
    const first = runSelect(host.store, host.primaryKey, query.select)
    if (query.distinct) {
      this.#distinct = first
      this.#noteDistinct()
    } else {
      const { rows, complete } = runWindow(host.store, host.primaryKey, query)
      this.#window.reset(rows, complete)
      this.#window.settle()
      this.#expiry.note(rows.map((e) => e.rec))
    }
    // A condition with a function runs user code: not under the writer's lock, only in delivery.
    this.#off = host.subscribe(this.#onCommit, () => this.close(), query.callsUser ? undefined : this.#ignores)
  }

  /** @internal The first callback, made by `table.watch` once the read lock is released. */
  open(): this {
    const rows = this.rows
    try {
      this.#callback(rows, { added: [...rows], removed: [], changed: [] })
    } catch (error) {
      this.close()
      throw error
    }
    return this
  }

  /** The current rows (frozen; equal to a fresh `select` of the query). */
  get rows(): T[] {
    if (this.#snapshot === null) {
      const rows = this.#q.distinct ? this.#distinct : this.#window.outs.slice()
      this.#snapshot = Object.freeze(rows) as unknown as T[]
    }
    return this.#snapshot
  }

  /** Whether the view stopped: `close()` was called, the table was dropped or the database closed. */
  get closed(): boolean {
    return this.#off === null
  }

  /** Stops the view: no more callbacks. Idempotent. */
  close(): void {
    this.#off?.()
    this.#off = null
    this.#expiry.stop()
  }

  /** A record in the result reached its expiry time: re-run, so it leaves at once. */
  #expire(): void {
    if (this.#off === null) return
    // Dropped (its commit ends the view) or closed: nothing to refresh.
    if (this.#host.isDead()) return this.close()
    this.#refresh()
    this.#emit()
    if (!this.#q.distinct) this.#expiry.note(this.#window.rows.map((e) => e.rec))
  }

  /**
   * A distinct result holds projections, which do not say when their records expire: the timer
   * is armed from the matching records themselves (one more scan, only on a table with `ttl`).
   */
  #noteDistinct(): void {
    if (this.#expiry.active) this.#expiry.note(matchRows(this.#host.store, this.#host.primaryKey, this.#q.node))
  }

  readonly #onCommit = (commit: Commit): void => {
    if (this.#off === null) return
    if (this.#host.isDead()) return this.#end()
    const ops = commit.ops
    if (ops.length === 1 && !this.#q.distinct && this.#single(ops[0] as Commit['ops'][number])) return
    if (commit.reset === true) this.#rerun = true
    else if (!this.#applyCommit(commit)) return
    if (this.#rerun) this.#refresh()
    this.#emit()
  }

  /**
   * Whether the commit of this lone change would leave the view as it is (then the writer need
   * not publish it): what {@link onCommit} does with it, minus the doing. Asked by the writer,
   * under its lock, once every earlier commit was delivered.
   */
  readonly #ignores = (op: RecordChange): boolean => {
    if (this.#off === null || this.#host.isDead()) return false
    if (op.table !== this.#host.table) return true
    // A window without limit or offset holds every live match, so a change neither version of
    // which matches cannot concern it: no lookup in the window (its Map) for the common miss.
    if (this.#q.distinct || this.#window.unbounded) return !this.#concerns(op)
    return !this.#window.byKey.has(op.key) && this.#passesBy(op)
  }

  /**
   * A commit of one change, the most common: true when it was handled here (one lookup in the
   * window), false when the general path must place it.
   */
  #single(op: Commit['ops'][number]): boolean {
    if (op.type !== 'record' || op.table !== this.#host.table) return true
    const old = this.#window.byKey.get(op.key)
    return old === undefined ? this.#passesBy(op) : this.#updateInPlace(op, old)
  }

  /**
   * An update of a row that stays in the result, in its place. It is replaced there and told
   * without the general bookkeeping (what each row was, then a diff of every touched row).
   * False: not that case, nothing done.
   */
  #updateInPlace(op: RecordChange, old: Entry): boolean {
    if (op.after === undefined || !this.#q.matches(op.after) || this.#host.store.expired(op.after)) return false
    // An update keeps the record's insertion rank.
    const next = this.#q.entry(op.key, op.after, old.seq)
    if (!this.#window.replace(old, next, false)) return false
    if (this.#expiry.active) this.#expiry.note([op.after])
    if (this.#q.sameOut(old, next)) return true
    this.#snapshot = null
    this.#callback(this.rows, { added: [], removed: [], changed: [next.out] } as WatchDiff<T>)
    return true
  }

  /**
   * Whether a change of a record outside the window leaves the result alone without placing
   * it: its versions do not match (an old version that matched only matters at a bounded
   * window's edge).
   */
  #passesBy(op: RecordChange): boolean {
    const q = this.#q
    if (op.after !== undefined && q.matches(op.after)) return false
    return op.before === undefined || this.#window.unbounded || !q.matches(op.before)
  }

  /** Places the commit's changes to this table; false when none concerns it. */
  #applyCommit(commit: Commit): boolean {
    const table = this.#host.table
    const ops = commit.ops
    if (ops.length > BULK && this.#isBulk(ops)) return (this.#rerun = true)
    let relevant = false
    for (const op of ops) {
      if (op.type !== 'record' || op.table !== table) continue
      if (this.#q.distinct) relevant ||= this.#concerns(op)
      else if (!this.#place(op)) return (this.#rerun = true)
      else relevant = true
    }
    if (this.#q.distinct && relevant) this.#rerun = true
    return relevant
  }

  #isBulk(ops: Commit['ops']): boolean {
    let n = 0
    for (const op of ops) if (op.table === this.#host.table) n++
    return n > BULK && n > this.#window.rows.length / 8
  }

  #concerns(op: RecordChange): boolean {
    return (op.before !== undefined && this.#q.matches(op.before)) || (op.after !== undefined && this.#q.matches(op.after))
  }

  /** Places one record change in the window; false when the query must be re-run. */
  #place(op: RecordChange): boolean {
    const q = this.#q
    const w = this.#window
    const { key, before, after } = op
    // A record already expired is invisible (an insert of one, or any change after its expiry).
    const next = after !== undefined && q.matches(after) && !this.#host.store.expired(after) ? after : undefined
    let beforeMatch: Ranked | undefined
    if (!w.unbounded && before !== undefined && !w.byKey.has(key) && q.matches(before)) {
      // Unknown rank (deleted): -Infinity makes a tie count as inside the window, so it re-runs.
      beforeMatch = { rec: before, seq: this.#host.store.rankOf(key) ?? this.#host.store.deletedSeq(op) ?? -Infinity }
    }
    if (next === undefined && beforeMatch === undefined && !w.byKey.has(key)) return true
    const seq = this.#host.store.rankOf(key) ?? Number.MAX_SAFE_INTEGER
    return w.apply(key, beforeMatch, next === undefined ? undefined : q.entry(key, next, seq))
  }

  #refresh(): void {
    this.#rerun = false
    const store = this.#host.store
    if (this.#q.distinct) return this.#refreshDistinct()
    const { rows, complete } = runWindow(store, this.#host.primaryKey, this.#q)
    this.#window.reset(rows, complete)
    this.#rerun = true // tells #emit to diff every row, not only the touched ones
  }

  #refreshDistinct(): void {
    const old = this.#distinct
    this.#distinct = runSelect(this.#host.store, this.#host.primaryKey, this.#q.select)
    this.#snapshot = null
    this.#noteDistinct()
    if (sameRows(old, this.#distinct)) return
    // Rows of a distinct result have no identity: the diff compares contents (a pure reorder is empty).
    const diff = contentDiff(old, this.#distinct)
    this.#callback(this.rows, diff as WatchDiff<T>)
  }

  #emit(): void {
    const w = this.#window
    if (this.#q.distinct || (w.touched.size === 0 && !this.#rerun)) return
    const diff = windowDiff(w, this.#q, this.#rerun)
    if (this.#expiry.active) this.#expiry.note(this.#rerun ? w.rows.map((e) => e.rec) : touchedRecs(w))
    this.#rerun = false
    w.settle()
    if (diff.added.length + diff.removed.length + diff.changed.length === 0) return
    this.#snapshot = null
    this.#callback(this.rows, diff as WatchDiff<T>)
  }

  /** The table is gone: the result empties once, then the view closes. */
  #end(): void {
    const removed = this.rows
    this.close()
    this.#window.reset([], true)
    this.#window.settle()
    this.#distinct = []
    this.#snapshot = null
    if (removed.length > 0) this.#callback(this.rows, { added: [], removed: [...removed], changed: [] })
  }
}
