// The base layer of a Table: its public fields, its parts, and the query side (reads under the
// read lock, live queries, aggregates, plans, CSV export). The layers above add the schema and
// indexes (src/table/indexes.ts) and the writes (src/table.ts).
import { readingInput } from '../errors'
import type { RWLock } from '../locks/types'
import { compileWatch } from '../live/query'
import { LiveView, type WatchCallback } from '../live/view'
import { checkFunction } from '../options'
import { aggregate as runAggregate, checkAggregations, type AggregateFn, type AggregateOptions, type Aggregation } from '../query/aggregate'
import { checkKnownField } from '../query/fields'
import { plan } from '../query/plan'
import { checkQueryOptionFields, matchRows, select as runSelect, type SelectOptions } from '../query/select'
import type { Where } from '../query/where'
import type { RecordChange } from '../storage/change'
import { exportCsv, type ExportCsvOptions } from '../persist/csv-export'
import type { Table } from '../table'
import type { AggregateRow, GroupRow, KeyOf, Projection, QueryPlan } from '../table-types'
import type { CommitListener } from '../txn/transactions'
import type { Key } from '../values/types'
import { PARTS, alive, locked, tableParts, whereNode, type TableContext, type TableParts } from './parts'

/** The aggregations `aggregate()` takes on records `T`: each names a field of `T` (or none, for `count()`). */
type Aggregations<T> = Readonly<Record<string, Aggregation<AggregateFn, (keyof T & string) | undefined>>>

/** The base of {@link Table}: its name, key and lock, and its queries. */
export class TableReads<T extends object, out K extends string> {
  /** The table name. */
  readonly name: string
  /** The primary key field (default `id`). */
  readonly primaryKey: string
  /** The table's reader-writer lock. */
  readonly lock: RWLock
  /** @internal */
  protected readonly [PARTS]: TableParts

  /** @internal Tables are made by `Database.createTable`. */
  constructor(ctx: TableContext) {
    this.name = ctx.name
    this.primaryKey = ctx.primaryKey
    this.lock = ctx.lock
    this[PARTS] = tableParts(ctx)
  }

  /** A copy of the record with this key, or undefined. */
  get(key: KeyOf<T, K>): T | undefined {
    const { ctx, plan } = this[PARTS]
    alive(ctx)
    return ctx.tx.readQuiet(this.lock, this.#getOne, plan.checkKey(key))
  }

  // The body of a hot call is made once per table, not as a closure per call.
  readonly #getOne = (key: Key): T | undefined => {
    const { ctx } = this[PARTS]
    alive(ctx)
    const rec = ctx.store.get(key)
    return rec === undefined || ctx.store.expired(rec) ? undefined : (ctx.store.copyOf(rec) as T)
  }

  /**
   * Records matching the options; copies unless `copy: false` (then frozen stored records).
   * With `columns`, the rows have the listed fields (or the aliases), typed from `T`.
   */
  select<const C extends readonly (keyof T & string)[]>(options: SelectOptions<T> & { columns: C }): Projection<T, C>[]
  select<const C extends Readonly<Record<string, keyof T & string>>>(options: SelectOptions<T> & { columns: C }): Projection<T, C>[]
  select(options?: SelectOptions<T>): T[]
  select(options?: SelectOptions<T>): unknown[] {
    const { ctx, known } = this[PARTS]
    alive(ctx)
    return locked(ctx, 'read', () => runSelect(ctx.store, this.primaryKey, options, { table: this.name, known }) as T[])
  }

  /**
   * A live query: `callback(rows, diff)` is called at once with the rows of `select(query)`, then
   * after each commit that changes them (never for a rolled-back transaction, never twice for
   * one commit). Rows are read-only (the frozen stored records, or frozen projections).
   *
   * @example
   * ```ts
   * const view = orders.watch({ where: { status: 'open' }, orderBy: '-total', limit: 10 }, (rows, { added, removed, changed }) => {
   *   render(rows)
   * })
   * view.close()
   * ```
   */
  watch(query: SelectOptions<T>, callback: WatchCallback<T>): LiveView<T> {
    const { ctx, known } = this[PARTS]
    alive(ctx)
    checkFunction(callback, 'callback')
    const compiled = compileWatch(query)
    checkQueryOptionFields({ table: this.name, known }, query)
    const subscribe = (listener: CommitListener, onClose: () => void, ignores?: (change: RecordChange) => boolean) => {
      const off = ctx.tx.subscribe(listener, ignores)
      const unfollow = ctx.follow(onClose)
      return () => (off(), unfollow())
    }
    const host = { table: this.name, primaryKey: this.primaryKey, store: ctx.store, isDead: () => ctx.dead !== null, subscribe }
    return locked(ctx, 'read', () => new LiveView<T>(host, compiled, callback)).open()
  }

  /** How many records match `where` (all when omitted). */
  count(where?: Where<T>): number {
    const parts = this[PARTS]
    const { store } = parts.ctx
    alive(parts.ctx)
    const node = whereNode(parts, where)
    return locked(parts.ctx, 'read', () => (node.op === 'true' && store.ttl === null ? store.size : matchRows(store, this.primaryKey, node).length))
  }

  /** Copies of every record, in insertion order. */
  all(): T[] {
    return this.select()
  }

  /** A `Map` of key → copy of every record. */
  copy(): Map<KeyOf<T, K>, T> {
    const { ctx } = this[PARTS]
    const { store } = ctx
    alive(ctx)
    return locked(ctx, 'read', () => {
      const out = new Map<KeyOf<T, K>, T>()
      const live = store.liveTest()
      for (const rec of store.records()) if (live === null || live(rec)) out.set(store.keyOf(rec) as KeyOf<T, K>, store.copyOf(rec) as T)
      return out
    })
  }

  /**
   * `count`/`sum`/`avg`/`min`/`max` over the matching records: one object, or with `groupBy`
   * one object per group carrying the group fields.
   */
  aggregate<const A extends Aggregations<T>>(aggregations: A, options?: { where?: Where<T> }): AggregateRow<T, A>
  aggregate<const A extends Aggregations<T>, G extends keyof T & string>(
    aggregations: A,
    options: { where?: Where<T>; groupBy: G | readonly G[] },
  ): GroupRow<T, A, G>[]
  aggregate(aggregations: Record<string, Aggregation>, options?: AggregateOptions<T>): unknown {
    const parts = this[PARTS]
    const { ctx, known } = parts
    alive(ctx)
    const { specs, groupBy } = checkAggregations(aggregations, options)
    for (const [, { field }] of specs) if (field !== undefined) checkKnownField(field, known, this.name, 'aggregate()')
    for (const field of groupBy ?? []) checkKnownField(field, known, this.name, '`groupBy`')
    const node = whereNode(parts, readingInput('the options of aggregate()', () => options?.where))
    return locked(ctx, 'read', () => runAggregate(matchRows(ctx.store, this.primaryKey, node), specs, groupBy))
  }

  /** How a query would find its rows: the index used (or a full scan) and how many it examines. */
  explain(where?: Where<T>): QueryPlan {
    const parts = this[PARTS]
    const { store } = parts.ctx
    alive(parts.ctx)
    const node = whereNode(parts, where)
    return locked(parts.ctx, 'read', () => {
      const total = store.size
      const access = node.op === 'true' ? null : plan(store, this.primaryKey, node)
      if (access === null) return { strategy: 'scan', estimatedCandidates: total, totalRecords: total }
      const out: QueryPlan = { strategy: access.strategy, estimatedCandidates: access.estimate(Infinity), totalRecords: total }
      if (access.field !== undefined) out.field = access.field
      if (access.indexType !== undefined) out.indexType = access.indexType
      return out
    })
  }

  /**
   * Writes the matching records to a CSV file (RFC 4180 quoting, UTF-8, written atomically) and
   * returns how many rows it wrote. Records end with `\n`, or `\r\n` with `lineEnding: 'crlf'`.
   *
   * @example
   * ```ts
   * users.exportCsv('adults.csv', { columns: ['id', 'name'], where: users.field('age').gte(18), delimiter: ';' })
   * ```
   */
  exportCsv(path: string, options?: ExportCsvOptions<T>): number {
    alive(this[PARTS].ctx)
    return exportCsv(this as unknown as Table<T>, path, options)
  }
}
