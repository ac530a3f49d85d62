import { InvalidArgumentError, InvalidStateError, RecordNotFoundError, TableNotFoundError, describe, inputError, readingInput } from './errors'
import type { IndexSpec, IndexType } from './indexes/types'
import type { RWLock } from './locks/types'
import { compileWatch } from './live/query'
import { LiveView, type WatchCallback } from './live/view'
import { checkBoolean, checkFunction, checkName, checkOptions } from './options'
import { aggregate as runAggregate, checkAggregations, type AggregateFn, type AggregateOptions, type Aggregation } from './query/aggregate'
import { Field } from './query/field'
import { checkKnownField, checkNodeFields, type KnownFields } from './query/fields'
import { plan } from './query/plan'
import { checkQueryOptionFields, matchRows, select as runSelect, type SelectOptions } from './query/select'
import type { ConditionNode } from './query/ast'
import { toNode, type Where } from './query/where'
import type { Validator } from './schema'
import type { RecordChange, TableDefinition } from './storage/change'
import type { TableStore } from './storage/table-store'
import { ChangePlanner, InsertBatch, type FieldChanges } from './table-changes'
import { exportCsv, type ExportCsvOptions } from './persist/csv-export'
import type { CommitListener, Transactions } from './txn/transactions'
import { clip } from './values/describe'
import { isPlainObject, thaw } from './values/freeze'
import type { Key, Rec } from './values/types'
import type { AggregateRow, Changes, GroupRow, KeyOf, Projection, QueryPlan, UpsertResult } from './table-types'

/** The aggregations `aggregate()` takes on records `T`: each names a field of `T` (or none, for `count()`). */
type Aggregations<T> = Readonly<Record<string, Aggregation<AggregateFn, (keyof T & string) | undefined>>>

/** Internal wiring a table gets from its database. */
export interface TableContext {
  readonly name: string
  readonly primaryKey: string
  readonly store: TableStore
  /** The lock's slot in shared memory (shared databases), or -1. */
  readonly lockSlot: number
  readonly lock: RWLock
  readonly tx: Transactions
  readonly validator: Validator | null
  readonly schema: unknown
  /** Why the table cannot be used any more (dropped, database closed), or null while it can. */
  dead: (() => Error) | null
  /**
   * Registers a live query: a shared replica is kept caught up while it waits, and `onClose`
   * runs when the database closes. Returns the stop function.
   */
  readonly follow: (onClose: () => void) => () => void
}

const INDEX_OPTIONS = ['type', 'unique'] as const
const INSERT_OPTIONS = ['skipValidation'] as const

/**
 * A table of records with a primary key, secondary indexes, queries and atomic writes.
 * Get one from `db.createTable(name)` or `db.getTable(name)`.
 *
 * @example
 * ```ts
 * const users = db.createTable<User>('users', { indexes: [{ field: 'city' }] })
 * const id = users.insert({ name: 'Ada', city: 'Paris' })   // 1
 * users.update({ visits: increment(1) }, { id })
 * users.select({ where: users.field('city').eq('Paris'), orderBy: '-visits' })
 * ```
 */
export class Table<T extends object = Record<string, unknown>, out K extends string = string> {
  /** The table name. */
  readonly name: string
  /** The primary key field (default `id`). */
  readonly primaryKey: string
  /** The table's reader-writer lock. */
  readonly lock: RWLock
  readonly #ctx: TableContext
  readonly #store: TableStore
  readonly #tx: Transactions
  readonly #plan: ChangePlanner
  readonly #known: KnownFields

  /** @internal Tables are made by `Database.createTable`. */
  constructor(ctx: TableContext) {
    this.#ctx = ctx
    this.name = ctx.name
    this.primaryKey = ctx.primaryKey
    this.lock = ctx.lock
    this.#store = ctx.store
    this.#tx = ctx.tx
    this.#plan = new ChangePlanner(ctx.name, ctx.primaryKey, ctx.store, ctx.validator)
    const declared = ctx.validator?.fields
    this.#known = declared ? new Set([ctx.primaryKey, ...declared]) : null
  }

  /**
   * Inserts a copy of `record` (or, atomically, of every record of a list) and returns its key.
   * A missing key is assigned: 1, 2, 3…, never reused.
   */
  insert(record: T): KeyOf<T, K>
  insert(records: readonly T[], options?: { skipValidation?: boolean }): KeyOf<T, K>[]
  insert(input: T | readonly T[], options?: { skipValidation?: boolean }): Key | Key[] {
    this.#alive()
    const skip = checkBoolean(checkOptions(options, INSERT_OPTIONS, 'insert()').skipValidation, 'skipValidation') ?? false
    let list: boolean
    try {
      list = Array.isArray(input)
    } catch (error) {
      throw inputError('the argument of insert()', error)
    }
    if (!list) return this.#tx.withLock(this.lock, 'write', this.#insertOne, input, !skip)
    return this.#insertList(input as readonly T[], skip)
  }

  // Apart from `insert`: variables its closures capture would cost every single insert a context object.
  #insertList(input: readonly T[], skip: boolean): Key[] {
    return this.#write(() => {
      const batch = new InsertBatch(this.#store.nextAutoKey)
      // Array.from, not map: a hole in a sparse list is visited (and refused), not skipped.
      const changes = readingInput('the records given to insert()', () => Array.from(input, (r) => this.#plan.insert(r, batch, !skip)))
      this.#tx.write(this.#store, changes)
      return batch.keys
    })
  }

  // The bodies of the hottest calls are made once per table, not as a closure per call.
  readonly #insertOne = (input: unknown, validate: boolean): Key => {
    this.#alive()
    let change: RecordChange
    try {
      change = this.#plan.insert(input, undefined, validate)
    } catch (error) {
      throw inputError('the record given to insert()', error)
    }
    this.#tx.writeOne(this.#store, change)
    return change.key
  }

  /** Inserts, or on an existing key merges (`'update'`, default), keeps (`'ignore'`) or throws (`'error'`). */
  upsert(record: T, options?: { onConflict?: 'update' | 'ignore' | 'error' }): UpsertResult<KeyOf<T, K>> {
    this.#alive()
    const onConflict = checkOptions(options, ['onConflict'], 'upsert()').onConflict ?? 'update'
    if (!['update', 'ignore', 'error'].includes(onConflict)) {
      throw new InvalidArgumentError(`Expected \`onConflict\` to be 'update', 'ignore' or 'error', got ${describe(onConflict)}`)
    }
    return this.#write(() => {
      const given = readingInput('the record given to upsert()', () => (record as Record<string, unknown> | null)?.[this.primaryKey])
      const found = given == null ? undefined : this.#store.get(this.#plan.checkKey(given))
      const rec = found === undefined || this.#store.expired(found) ? undefined : found
      if (rec === undefined) {
        const change = readingInput('the record given to upsert()', () => this.#plan.insert(record))
        this.#tx.write(this.#store, [change])
        return { key: change.key as KeyOf<T, K>, action: 'inserted' }
      }
      const key = this.#store.keyOf(rec) as KeyOf<T, K>
      if (onConflict === 'error') throw this.#plan.duplicate(key)
      if (onConflict === 'ignore') return { key, action: 'ignored' }
      this.#tx.write(this.#store, [readingInput('the record given to upsert()', () => this.#plan.upsertMerge(rec, record))])
      return { key, action: 'updated' }
    })
  }

  /** A copy of the record with this key, or undefined. */
  get(key: KeyOf<T, K>): T | undefined {
    this.#alive()
    return this.#tx.readQuiet(this.lock, this.#getOne, this.#plan.checkKey(key))
  }

  readonly #getOne = (key: Key): T | undefined => {
    this.#alive()
    const rec = this.#store.get(key)
    return rec === undefined || this.#store.expired(rec) ? undefined : (this.#store.copyOf(rec) as T)
  }

  /**
   * Records matching the options; copies unless `copy: false` (then frozen stored records).
   * With `columns`, the rows have the listed fields (or the aliases), typed from `T`.
   */
  select<const C extends readonly (keyof T & string)[]>(options: SelectOptions<T> & { columns: C }): Projection<T, C>[]
  select<const C extends Readonly<Record<string, keyof T & string>>>(options: SelectOptions<T> & { columns: C }): Projection<T, C>[]
  select(options?: SelectOptions<T>): T[]
  select(options?: SelectOptions<T>): unknown[] {
    this.#alive()
    return this.#read(() => runSelect(this.#store, this.primaryKey, options, { table: this.name, known: this.#known }) as T[])
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
    this.#alive()
    checkFunction(callback, 'callback')
    const compiled = compileWatch(query)
    checkQueryOptionFields({ table: this.name, known: this.#known }, query)
    const ctx = this.#ctx
    const subscribe = (listener: CommitListener, onClose: () => void, ignores?: (change: RecordChange) => boolean) => {
      const off = this.#tx.subscribe(listener, ignores)
      const unfollow = ctx.follow(onClose)
      return () => (off(), unfollow())
    }
    const host = { table: this.name, primaryKey: this.primaryKey, store: this.#store, isDead: () => ctx.dead !== null, subscribe }
    return this.#read(() => new LiveView<T>(host, compiled, callback)).open()
  }

  /**
   * Applies `changes` to every record matching `where` (all when omitted), all or nothing.
   * Returns how many; `RecordNotFoundError` when none matched.
   */
  update(changes: Changes<T>, where?: Where<T>): number {
    this.#alive()
    let fields: FieldChanges
    let key: Key | undefined
    try {
      fields = this.#plan.changes(changes)
    } catch (error) {
      throw inputError('the changes given to update()', error)
    }
    // By primary key (`{ id }`): one lookup under the lock, no condition to build or match.
    try {
      key = this.#plan.keyOf(where)
    } catch (error) {
      throw inputError('`where`', error)
    }
    if (key !== undefined) return this.#tx.writeRecord(this.lock, this.#store, this.#updateOne, fields, key)
    return this.#updateWhere(fields, where)
  }

  // Apart from `update`: variables its closures capture would cost every update by key a context object.
  #updateWhere(fields: FieldChanges, where: unknown): number {
    const node = this.#where(where)
    return this.#write(() => {
      const recs = this.#matchOrThrow(node, 'update')
      this.#tx.write(this.#store, recs.map((rec) => this.#plan.merge(rec, fields)))
      return recs.length
    })
  }

  readonly #updateOne = (fields: FieldChanges, key: Key): number => {
    this.#alive()
    const rec = this.#store.get(key)
    // An expired record (a table with `ttl`) is invisible to writes too, as to `matchRows`.
    if (rec === undefined || this.#store.expired(rec)) throw this.#noMatch('update')
    // With no validator, merging runs no user code: a shared log may merge again (`#remerge`).
    this.#fields = fields
    this.#tx.writeOne(this.#store, this.#plan.merge(rec, fields), this.#plan.validator === null ? this.#remerge : null)
    return 1
  }

  /** The fields of the update by key in progress, for {@link #remerge} (no closure per update). */
  #fields: FieldChanges = []
  /**
   * The update by key in progress, merged again into its record as it is now (another thread
   * changed it since it was planned): `Replan` in src/txn/shared-sync.ts.
   */
  readonly #remerge = (current: Rec | undefined): RecordChange | null =>
    current === undefined || this.#store.expired(current) ? null : this.#plan.merge(current, this.#fields)

  /**
   * @internal For helpers (`sequence.next()`): updates record `key` with the fields `plan`
   * computes from it, atomically, and returns the record as stored. With `pure` (`plan` runs no
   * user code, and the table has no validator), a shared database may run `plan` again under its
   * append mutex when another thread changed the record meanwhile, instead of planning again
   * outside. `RecordNotFoundError` when there is no such record.
   */
  updateComputed(key: Key, plan: (rec: T) => Changes<T>, pure: boolean): T {
    this.#alive()
    this.#computing = { plan: plan as (rec: Rec) => unknown, pure }
    return this.#tx.writeRecord(this.lock, this.#store, this.#computeOne, this.#computing, key) as T
  }

  #computing: { plan: (rec: Rec) => unknown; pure: boolean } | null = null
  readonly #computeOne = (computing: { plan: (rec: Rec) => unknown; pure: boolean }, key: Key): Rec => {
    this.#alive()
    const rec = this.#store.get(key)
    if (rec === undefined || this.#store.expired(rec)) throw this.#noMatch('update')
    const change = this.#plan.merge(rec, this.#plan.changes(computing.plan(rec)))
    this.#tx.writeOne(this.#store, change, computing.pure && this.#plan.validator === null ? this.#recompute : null)
    return this.#store.get(key) as Rec
  }
  readonly #recompute = (current: Rec | undefined): RecordChange | null => {
    const computing = this.#computing
    if (computing === null || current === undefined || this.#store.expired(current)) return null
    return this.#plan.merge(current, this.#plan.changes(computing.plan(current)))
  }

  /** Deletes every record matching `where` (all when omitted); `RecordNotFoundError` when none. */
  delete(where?: Where<T>): number {
    this.#alive()
    const node = this.#where(where)
    return this.#write(() => {
      const recs = this.#matchOrThrow(node, 'delete')
      this.#tx.write(this.#store, recs.map((rec) => this.#plan.remove(rec)))
      return recs.length
    })
  }

  /** The first record equal to `where`, or a new one made of `defaults` and `where` — atomically. */
  getOrCreate(where: Partial<T>, defaults?: Partial<T>): { record: T; created: boolean } {
    this.#alive()
    if (!readingInput('the arguments of getOrCreate()', () => isPlainObject(where))) {
      throw new InvalidArgumentError(`Expected getOrCreate() to take a plain object of field values, got ${describe(where)}`)
    }
    const node = this.#where(where)
    const record = readingInput('the arguments of getOrCreate()', () => {
      if (defaults !== undefined && !isPlainObject(defaults)) {
        throw new InvalidArgumentError(`Expected the defaults of getOrCreate() to be a plain object, got ${describe(defaults)}`)
      }
      return { ...defaults, ...where }
    })
    return this.#write(() => {
      const found = matchRows(this.#store, this.primaryKey, node, 1)[0]
      if (found !== undefined) return { record: this.#store.copyOf(found) as T, created: false }
      const change: RecordChange = readingInput('the arguments of getOrCreate()', () => this.#plan.insert(record))
      this.#tx.write(this.#store, [change])
      return { record: thaw(change.after) as T, created: true }
    })
  }

  /** How many records match `where` (all when omitted). */
  count(where?: Where<T>): number {
    this.#alive()
    const node = this.#where(where)
    return this.#read(() => (node.op === 'true' && this.#store.ttl === null ? this.#store.size : matchRows(this.#store, this.primaryKey, node).length))
  }

  /** Copies of every record, in insertion order. */
  all(): T[] {
    return this.select()
  }

  /** A `Map` of key → copy of every record. */
  copy(): Map<KeyOf<T, K>, T> {
    this.#alive()
    return this.#read(() => {
      const out = new Map<KeyOf<T, K>, T>()
      const live = this.#store.liveTest()
      for (const rec of this.#store.records()) if (live === null || live(rec)) out.set(this.#store.keyOf(rec) as KeyOf<T, K>, this.#store.copyOf(rec) as T)
      return out
    })
  }

  /** The fields of the schema (type-string schema), or every field seen in the records; key first. */
  columns(): string[] {
    this.#alive()
    const fields = new Set<string>([this.primaryKey])
    const declared = this.#ctx.validator?.fields
    if (declared) declared.forEach((f) => fields.add(f))
    else this.#read(() => { for (const rec of matchRows(this.#store, this.primaryKey, { op: 'true' })) for (const f in rec) fields.add(f) })
    return [...fields]
  }

  /** A field, to build conditions: `users.field('age').gte(18)`. */
  field<F extends keyof T & string>(name: F): Field<T[F]> {
    const field = new Field<T[F]>(name)
    checkKnownField(name, this.#known, this.name, 'field()')
    return field
  }

  /** Creates an index (`hash` by default, or `sorted` for ranges; `unique` refuses duplicates). */
  createIndex(field: keyof T & string, options?: { type?: IndexType; unique?: boolean }): void {
    this.#alive()
    const spec = checkIndexSpec({ field, ...checkOptions(options, INDEX_OPTIONS, 'createIndex()') })
    checkKnownField(spec.field, this.#known, this.name, 'createIndex()')
    this.#write(() => {
      const existing = this.#store.index(spec.field)
      if (existing !== undefined) {
        if (existing.type === spec.type && existing.unique === spec.unique) return
        throw new InvalidArgumentError(
          `An index on \`${this.name}.${spec.field}\` exists with other options (${existing.type}${existing.unique ? ', unique' : ''}); drop it first`,
          { table: this.name, field: spec.field },
        )
      }
      this.#tx.schema(
        { type: 'createIndex', table: this.name, index: spec },
        () => this.#store.addIndex(spec),
        () => this.#store.removeIndex(spec.field),
      )
    })
  }

  /** Drops the index on `field`. */
  dropIndex(field: keyof T & string): void {
    this.#alive()
    checkName(field, 'field')
    this.#write(() => {
      const index = this.#store.index(field)
      if (index === undefined) throw new InvalidArgumentError(`There is no index on \`${this.name}.${clip(field)}\``, { table: this.name, field })
      const spec = { field, type: index.type, unique: index.unique }
      this.#tx.schema(
        { type: 'dropIndex', table: this.name, field },
        () => this.#store.removeIndex(field),
        () => this.#store.addIndex(spec),
      )
    })
  }

  /** Whether `field` has an index. */
  hasIndex(field: keyof T & string): boolean {
    this.#alive()
    checkName(field, 'field')
    return this.#read(() => this.#store.index(field) !== undefined)
  }

  /** The indexed fields, in creation order. */
  indexedFields(): string[] {
    this.#alive()
    return this.#read(() => [...this.#store.indexes()].map((i) => i.field))
  }

  /** The fields declared by a type-string schema (empty without one or for a Standard Schema). */
  schemaFields(): string[] {
    this.#alive()
    return [...(this.#ctx.validator?.fields ?? [])]
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
    this.#alive()
    const { specs, groupBy } = checkAggregations(aggregations, options)
    for (const [, { field }] of specs) if (field !== undefined) checkKnownField(field, this.#known, this.name, 'aggregate()')
    for (const field of groupBy ?? []) checkKnownField(field, this.#known, this.name, '`groupBy`')
    const node = this.#where(readingInput('the options of aggregate()', () => options?.where))
    return this.#read(() => runAggregate(matchRows(this.#store, this.primaryKey, node), specs, groupBy))
  }

  /** How a query would find its rows: the index used (or a full scan) and how many it examines. */
  explain(where?: Where<T>): QueryPlan {
    this.#alive()
    const node = this.#where(where)
    return this.#read(() => {
      const total = this.#store.size
      const access = node.op === 'true' ? null : plan(this.#store, this.primaryKey, node)
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
    this.#alive()
    return exportCsv(this as unknown as Table<T>, path, options)
  }

  /** @internal The table's definition, as saved and replicated. */
  definition(): TableDefinition {
    const indexes = [...this.#store.indexes()].map((i) => ({ field: i.field, type: i.type, unique: i.unique }))
    const def: { -readonly [K in keyof TableDefinition]: TableDefinition[K] } = { name: this.name, primaryKey: this.primaryKey, indexes }
    if (this.#ctx.schema !== undefined) def.schema = this.#ctx.schema
    if (this.#store.ttl !== null) def.ttl = this.#store.ttl
    return def
  }

  /**
   * @internal Deletes expired records through the write path (the TTL sweep): `find` picks them
   * under the write lock, `mayDelete` (the sweep lease) is asked only when there are some.
   */
  deleteExpired(find: (store: TableStore) => Rec[], mayDelete: () => boolean): number {
    this.#alive()
    return this.#write(() => {
      const now = Date.now()
      const recs = find(this.#store).filter((rec) => this.#store.get(this.#store.keyOf(rec)) === rec && this.#store.expired(rec, now))
      if (recs.length === 0 || !mayDelete()) return 0
      this.#tx.write(this.#store, recs.map((rec) => this.#plan.remove(rec)))
      return recs.length
    })
  }

  /** The condition of a `where` argument, its fields checked against the schema. */
  #where(where: unknown): ConditionNode {
    const node = toNode(where, 'where', this.name)
    checkNodeFields(node, this.#known, this.name, '`where`')
    return node
  }

  #matchOrThrow(node: ReturnType<typeof toNode>, what: string) {
    const rows = matchRows(this.#store, this.primaryKey, node)
    if (rows.length === 0) throw this.#noMatch(what)
    return rows
  }

  #noMatch(what: string): RecordNotFoundError {
    return new RecordNotFoundError(`${what}() matched no record in \`${this.name}\``, { table: this.name })
  }

  // Liveness is checked again under the lock: in a shared database, catching up may just have
  // applied another thread's dropTable, and a write to a dropped table must not reach the log.
  #read<R>(fn: () => R): R {
    return this.#tx.withLock(this.lock, 'read', () => (this.#alive(), fn()))
  }

  #write<R>(fn: () => R): R {
    return this.#tx.withLock(this.lock, 'write', () => (this.#alive(), fn()))
  }

  #alive(): void {
    const dead = this.#ctx.dead
    if (dead !== null) throw dead()
  }
}

/** Checks and completes an index definition. */
export function checkIndexSpec(spec: IndexSpec): Required<IndexSpec> {
  const field = checkName(spec.field, 'field')
  const type = spec.type ?? 'hash'
  if (type !== 'hash' && type !== 'sorted') {
    throw new InvalidArgumentError(`Unknown index type ${describe(type)} for \`${field}\`: expected 'hash' or 'sorted'`, { field })
  }
  const unique = checkBoolean(spec.unique, 'unique') ?? false
  return { field, type, unique }
}

/** The error of a table used after it was dropped. */
export function droppedError(name: string): Error {
  return new TableNotFoundError(`Table \`${name}\` was dropped`, { table: name })
}

/** The error of a table used after its database was closed. */
export function closedError(): Error {
  return new InvalidStateError('The database is closed')
}
