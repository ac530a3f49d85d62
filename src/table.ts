import { InvalidArgumentError, type RecordNotFoundError, describe, inputError, readingInput } from './errors'
import { checkBoolean, checkOptions } from './options'
import { matchRows } from './query/select'
import type { ConditionNode } from './query/ast'
import type { Where } from './query/where'
import type { RecordChange } from './storage/change'
import type { TableStore } from './storage/table-store'
import { InsertBatch, type ChangePlanner, type FieldChanges } from './table-changes'
import { PARTS, alive, locked, noMatch, whereNode, type TableContext } from './table/parts'
import { TableIndexes } from './table/indexes'
import { ExpressUpdate } from './table/express'
import type { Transactions } from './txn/transactions'
import { isPlainObject, thaw } from './values/freeze'
import type { Key, Rec } from './values/types'
import type { Changes, KeyOf, UpsertResult } from './table-types'

export { checkIndexSpec, closedError, droppedError, type TableContext } from './table/parts'

const INSERT_OPTIONS = ['skipValidation'] as const

// Its methods come in layers (src/table/): its fields and queries (reads.ts), its schema and
// indexes (indexes.ts); here, the writes.
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
export class Table<T extends object = Record<string, unknown>, out K extends string = string> extends TableIndexes<T, K> {
  // The write path's own references, read by its hottest calls without going through the parts.
  readonly #ctx: TableContext
  readonly #store: TableStore
  readonly #tx: Transactions
  readonly #plan: ChangePlanner
  /** A shared database's express update by key (null in a local one). */
  readonly #express: ExpressUpdate | null

  /** @internal Tables are made by `Database.createTable`. */
  constructor(ctx: TableContext) {
    super(ctx)
    this.#ctx = ctx
    this.#store = ctx.store
    this.#tx = ctx.tx
    this.#plan = this[PARTS].plan
    this.#express = ctx.replica === null ? null : new ExpressUpdate(ctx, this.#plan)
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
    if (key !== undefined) {
      const express = this.#express
      if (express !== null && fields.length === 2 && express.update(fields[0] as string, fields[1], key)) return 1
      return this.#tx.writeRecord(this.lock, this.#store, this.#updateOne, fields, key)
    }
    return this.#updateWhere(fields, where)
  }

  // Apart from `update`: variables its closures capture would cost every update by key a context object.
  #updateWhere(fields: FieldChanges, where: unknown): number {
    const node = this.#where(where)
    return this.#write(() => {
      const recs = this.#matchOrThrow(node, 'update')
      // Each change sets `fields` alone, unless a Standard Schema (opaque: no field list) made the record.
      this.#tx.write(this.#store, recs.map((rec) => this.#plan.merge(rec, fields)), this.#plan.validator?.fields === null ? null : fields)
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

  #where(where: unknown): ConditionNode {
    return whereNode(this[PARTS], where)
  }

  #matchOrThrow(node: ConditionNode, what: string) {
    const rows = matchRows(this.#store, this.primaryKey, node)
    if (rows.length === 0) throw this.#noMatch(what)
    return rows
  }

  #noMatch(what: string): RecordNotFoundError {
    return noMatch(this.name, what)
  }

  #write<R>(fn: () => R): R {
    return locked(this.#ctx, 'write', fn)
  }

  #alive(): void {
    alive(this.#ctx)
  }
}
