import { InvalidArgumentError, describe, readingInput } from '../errors'
import { checkBoolean, checkCount, checkOptions } from '../options'
import type { TableStore } from '../storage/table-store'
import { encode } from '../values/canonical'
import { compare } from '../values/compare'
import { shortName } from '../values/describe'
import { thaw } from '../values/freeze'
import { readerOf } from '../values/own-field'
import type { Key, Rec } from '../values/types'
import type { ConditionNode } from './ast'
import { compile } from './compile'
import { checkKnownField, checkNodeFields, type KnownFields } from './fields'
import { plan } from './plan'
import { toNode } from './where'

/** A field to sort by; a leading `-` sorts descending. */
export type OrderKey<T> = (keyof T & string) | `-${keyof T & string}`

/** Options of `table.select`. */
export interface SelectOptions<T> {
  /** Which records: a Condition, `{ field: value }` (all equal), or a predicate. */
  where?: import('./where').Where<T>
  /** Project (`['name']`) or rename (`{ alias: 'field' }`) fields. */
  columns?: readonly (keyof T & string)[] | Readonly<Record<string, keyof T & string>>
  /** Sort by one or more fields; `-age` is descending. Nulls first ascending, last descending. */
  orderBy?: OrderKey<T> | readonly OrderKey<T>[]
  /** At most this many rows (after sorting and `offset`). */
  limit?: number
  /** Skip this many rows (after sorting). */
  offset?: number
  /** Return mutable deep copies (default `true`) or the frozen stored records (`false`). */
  copy?: boolean
  /** Drop duplicate result rows, keeping the first. */
  distinct?: boolean
}

const SELECT_OPTIONS = ['where', 'columns', 'orderBy', 'limit', 'offset', 'copy', 'distinct'] as const

export interface SortKey {
  readonly field: string
  readonly desc: boolean
}

/** Finds the stored records matching `where`, in insertion order (planner + compiled predicate). */
export function matchRows(store: TableStore, primaryKey: string, node: ConditionNode, limit = Infinity): Rec[] {
  // The most common write of all, `update(changes, { id })`: one lookup, nothing to plan.
  const live = store.liveTest()
  if (node.op === 'eq' && node.field === primaryKey && (typeof node.value === 'string' || typeof node.value === 'number')) {
    const rec = store.get(node.value)
    return rec === undefined || limit === 0 || (live !== null && !live(rec)) ? [] : [rec]
  }
  const test = compile(node)
  // Expired records (a table with `ttl`) are invisible to every read from the moment they expire.
  const predicate = live === null ? test : (rec: Rec) => live(rec) && test(rec)
  const access = node.op === 'true' ? null : plan(store, primaryKey, node)
  const out: Rec[] = []
  if (limit === 0) return out
  if (access === null) return store.filter(predicate, limit)
  // Keys are put in insertion order before any record is read (a rank is the key itself while
  // keys rise), so records are read in the order they were stored and `limit` stops early.
  const keys = access.collect()
  if (!store.inRankOrder(keys)) store.sortByRank(keys)
  if (live === null && access.strategy === 'index' && indexAnswers(node)) {
    // The index gave exactly the matches: no record needs testing (nor reading, until copied).
    const n = Math.min(keys.length, limit)
    for (let i = 0; i < n; i++) out.push(store.get(keys[i] as Key) as Rec)
    return out
  }
  for (let i = 0; i < keys.length; i++) {
    const rec = store.get(keys[i] as Key) as Rec
    if (predicate(rec) && out.push(rec) >= limit) break
  }
  return out
}

/**
 * Whether an index's candidates for `node` (a leaf the planner turned into an index access) are
 * exactly its matches: equality to a string, number or boolean (the index's canonical equality
 * is `===` there), or a range between numbers (the sorted index compares numbers as the
 * predicate does). Anything else is tested record by record.
 */
function indexAnswers(node: ConditionNode): boolean {
  switch (node.op) {
    case 'eq':
      return typeof node.value === 'string' || typeof node.value === 'number' || typeof node.value === 'boolean'
    case 'between':
      return typeof node.lo === 'number' && typeof node.hi === 'number'
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return typeof node.value === 'number'
    default:
      return false
  }
}

/** The table a query runs on, for messages and for the field names it knows. */
export interface QueryScope {
  readonly table: string
  readonly known: KnownFields
}

const ANY_TABLE: QueryScope = { table: 'table', known: null }

/** `select`: candidates → filter → order → offset/limit → project → distinct → copy. */
export function select(store: TableStore, primaryKey: string, options: unknown, scope: QueryScope = ANY_TABLE): Rec[] {
  const opts = checkOptions(options as SelectOptions<Rec> | undefined, SELECT_OPTIONS, 'select()')
  const limit = checkCount(opts.limit, 'limit')
  const offset = checkCount(opts.offset, 'offset') ?? 0
  const copy = checkBoolean(opts.copy, 'copy') ?? true
  const distinct = checkBoolean(opts.distinct, 'distinct') ?? false
  const sortKeys = readingInput('`orderBy`', () => parseOrderBy(opts.orderBy))
  const project = readingInput('`columns`', () => projector(opts.columns))
  const node = toNode(opts.where, 'where', scope.table)
  checkQueryFields(scope, node, sortKeys, project)
  if (limit === 0) return []
  const early = sortKeys.length === 0 && !distinct && limit !== undefined ? offset + limit : Infinity
  let rows = matchRows(store, primaryKey, node, early)
  if (sortKeys.length > 0) {
    const byFields = fieldComparator(sortKeys)
    rows.sort((a, b) => byFields(a, b) || store.rank(a) - store.rank(b))
  }
  if (!distinct && (offset > 0 || limit !== undefined)) rows = rows.slice(offset, limit === undefined ? undefined : offset + limit)
  if (project === null && !distinct) return copy ? store.copyEach(rows) : rows
  let out: Rec[] = project === null ? rows : rows.map((r) => project(r))
  if (distinct) out = dedupeRows(out).slice(offset, limit === undefined ? undefined : offset + limit)
  if (copy) return out.map(thaw)
  return project === null ? out : out.map((r) => Object.freeze(r))
}

/** On a table with a type-string schema, every field a query names must be one it has. */
export function checkQueryFields(scope: QueryScope, node: ConditionNode, sortKeys: readonly SortKey[], project: Projector | null): void {
  if (scope.known === null) return
  checkNodeFields(node, scope.known, scope.table, '`where`')
  for (const { field } of sortKeys) checkKnownField(field, scope.known, scope.table, '`orderBy`')
  for (const field of project?.fields ?? []) checkKnownField(field, scope.known, scope.table, '`columns`')
}

/** {@link checkQueryFields} of a query's options as given (already checked otherwise). */
export function checkQueryOptionFields(scope: QueryScope, options: unknown): void {
  if (scope.known === null) return
  const opts = checkOptions(options as SelectOptions<Rec> | undefined, SELECT_OPTIONS, 'the query')
  const sortKeys = readingInput('`orderBy`', () => parseOrderBy(opts.orderBy))
  const project = readingInput('`columns`', () => projector(opts.columns))
  checkQueryFields(scope, toNode(opts.where, 'where', scope.table), sortKeys, project)
}

/** Parses `orderBy` into sort keys. */
export function parseOrderBy(orderBy: unknown): SortKey[] {
  if (orderBy === undefined) return []
  const list = Array.isArray(orderBy) ? orderBy : [orderBy]
  // Array.from, not map: a hole in a sparse list is visited (and refused), not skipped.
  return Array.from(list as unknown[], (spec: unknown) => {
    if (typeof spec !== 'string' || spec.length === 0 || spec === '-') {
      throw new InvalidArgumentError(`Expected \`orderBy\` to be a field name (\`-name\` for descending) or a list of them, got ${describe(orderBy)}`)
    }
    // SQL's `age desc` would sort by a field named "age desc", which no record has.
    const sql = /^(-?)(\S+)\s+(asc|desc)$/i.exec(spec.trim())
    if (sql !== null) {
      const [, minus, field, dir] = sql as unknown as [string, string, string, string]
      const write = dir.toLowerCase() === 'desc' ? `-${field}` : field
      throw new InvalidArgumentError(`\`orderBy\` takes a field name, with a leading \`-\` for descending: write '${shortName(write)}', not ${describe(spec)}${minus ? ' (the `-` and the direction contradict each other)' : ''}`)
    }
    // A leading `+` (ascending, as in some ORMs) would sort by a field named "+age", which no record has.
    if (spec.length > 1 && spec.startsWith('+')) {
      throw new InvalidArgumentError(`\`orderBy\` takes a field name, ascending by default: write '${shortName(spec.slice(1))}', not ${describe(spec)}`)
    }
    return spec.startsWith('-') ? { field: spec.slice(1), desc: true } : { field: spec, desc: false }
  })
}

/** Sorts records with their insertion rank by the keys, then by insertion order (a stable sort). */
export function sortComparator(keys: readonly SortKey[]): (a: { readonly rec: Rec; readonly seq: number }, b: { readonly rec: Rec; readonly seq: number }) => number {
  const byFields = fieldComparator(keys)
  return (a, b) => byFields(a.rec, b.rec) || a.seq - b.seq
}

/** Compares records by the sort keys alone (0 on a tie). */
export function fieldComparator(keys: readonly SortKey[]): (a: Rec, b: Rec) => number {
  // The own-field test is paid only when a sort field is a name Object.prototype has (as compiled
  // conditions do): a sort runs it twice per comparison.
  const read = readerOf(keys.map((k) => k.field))
  return (a, b) => {
    for (const { field, desc } of keys) {
      const c = compare(read(a, field), read(b, field))
      if (c !== 0) return desc ? -c : c
    }
    return 0
  }
}

/** A projection: what `columns` keeps, and the stored fields it reads. */
export interface Projector {
  (rec: Rec): Rec
  readonly fields: string[]
}

/** The projection of `columns` (null when every field is kept). */
export function projector(columns: unknown): Projector | null {
  if (columns === undefined) return null
  let pairs: Array<[string, string]>
  if (Array.isArray(columns)) pairs = Array.from(columns as unknown[], (c) => [c, c] as [string, string])
  else if (typeof columns === 'object' && columns !== null) pairs = Object.entries(columns) as Array<[string, string]>
  else throw new InvalidArgumentError(`Expected \`columns\` to be a list of fields or an { alias: field } object, got ${describe(columns)}`)
  for (const [alias, field] of pairs) {
    if (typeof field !== 'string' || field.length === 0 || alias.length === 0 || alias === '__proto__') {
      throw new InvalidArgumentError(`Expected \`columns\` to name fields with non-empty strings, got ${describe(columns)}`)
    }
  }
  // An empty projection gives one `{}` per record: a list that came out empty by mistake.
  if (pairs.length === 0) throw new InvalidArgumentError(`Expected \`columns\` to name at least one field, got ${describe(columns)} (to count records, use count())`)
  const read = readerOf(pairs.map(([, field]) => field))
  const project = (rec: Rec): Rec => {
    const out: Record<string, unknown> = {}
    for (const [alias, field] of pairs) out[alias] = read(rec, field) ?? null
    return out
  }
  return Object.assign(project, { fields: pairs.map(([, field]) => field) })
}

function dedupeRows(rows: Rec[]): Rec[] {
  const seen = new Set<string>()
  return rows.filter((r) => {
    const key = encode(r)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
