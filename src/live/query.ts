import { InvalidArgumentError, describe } from '../errors'
import { checkBoolean, checkCount, checkOptions } from '../options'
import type { ConditionNode } from '../query/ast'
import { compile, type Predicate } from '../query/compile'
import { matchRows, parseOrderBy, projector, sortComparator, type SelectOptions } from '../query/select'
import { toNode } from '../query/where'
import type { TableStore } from '../storage/table-store'
import { equals } from '../values/compare'
import type { Key, Rec } from '../values/types'
import type { Entry } from './window'

/** What the order of a result is decided on: the record, then its insertion rank. */
export interface Ranked {
  readonly rec: Rec
  readonly seq: number
}

const WATCH_OPTIONS = ['where', 'columns', 'orderBy', 'limit', 'offset', 'copy', 'distinct'] as const

/** A watched query, compiled once: the condition, the order, the window and the projection. */
export interface WatchedQuery {
  readonly node: ConditionNode
  readonly matches: Predicate
  readonly cmp: (a: Ranked, b: Ranked) => number
  readonly limit: number | undefined
  readonly offset: number
  readonly distinct: boolean
  /** Whether the condition has a function (user code) among its leaves. */
  readonly callsUser: boolean
  /** The options a fresh `select` takes to give the same rows (frozen, not copied). */
  readonly select: SelectOptions<Rec>
  entry(key: Key, rec: Rec, seq: number): Entry
  /** Whether two versions of a row give the same result row. */
  sameOut(a: Entry, b: Entry): boolean
}

/**
 * Checks and compiles the query of `table.watch`. Rows of a view are shared between callbacks
 * and `view.rows`, so they are the frozen stored records (or frozen projections): `copy: true`
 * would hand out mutable rows that one reader could change under another, and is refused.
 */
export function compileWatch(query: unknown): WatchedQuery {
  const opts = checkOptions(query as SelectOptions<Rec> | undefined, WATCH_OPTIONS, 'watch()')
  if (checkBoolean(opts.copy, 'copy') === true) {
    throw new InvalidArgumentError(
      `watch() rows are read-only, shared by every callback and view.rows: \`copy\` must be false or left out, got ${describe(opts.copy)}`,
    )
  }
  const limit = checkCount(opts.limit, 'limit')
  const offset = checkCount(opts.offset, 'offset') ?? 0
  const distinct = checkBoolean(opts.distinct, 'distinct') ?? false
  const byOrder = sortComparator(parseOrderBy(opts.orderBy))
  const project = projector(opts.columns)
  const node = toNode(opts.where)
  return {
    node,
    matches: compile(node),
    cmp: byOrder,
    limit,
    offset,
    distinct,
    callsUser: hasFunction(node),
    select: { ...opts, copy: false },
    entry: (key, rec, seq) => ({ key, rec, seq, out: project === null ? rec : Object.freeze(project(rec)) }),
    // Without a projection, a new version of a record is a change (comparing contents would cost
    // more than it saves); with one, only a change of the projected fields counts.
    sameOut: project === null ? (a, b) => a.rec === b.rec : (a, b) => equals(a.out, b.out),
  }
}

/** Runs the query for its window: the rows in result order, and whether nothing matched after them. */
export function runWindow(store: TableStore, primaryKey: string, q: WatchedQuery): { rows: Entry[]; complete: boolean } {
  if (q.limit === 0) return { rows: [], complete: true }
  const rows = matchRows(store, primaryKey, q.node).map((rec) => ({ rec, seq: store.rank(rec) }))
  rows.sort(q.cmp)
  const end = q.limit === undefined ? rows.length : q.offset + q.limit
  const out: Entry[] = []
  for (let i = q.offset; i < Math.min(end, rows.length); i++) {
    const row = rows[i] as (typeof rows)[number]
    out.push(q.entry(store.keyOf(row.rec), row.rec, row.seq))
  }
  return { rows: out, complete: end >= rows.length }
}

/** Whether a condition has a function leaf (user code). */
function hasFunction(node: ConditionNode): boolean {
  switch (node.op) {
    case 'fn':
      return true
    case 'and':
    case 'or':
      return node.items.some(hasFunction)
    case 'not':
      return hasFunction(node.item)
    default:
      return false
  }
}
