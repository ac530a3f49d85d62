import { DuplicateKeyError } from '../errors'
import { createIndex } from '../indexes/create'
import type { Index, IndexSpec } from '../indexes/types'
import { canonical } from '../values/canonical'
import { equals } from '../values/compare'
import { thaw } from '../values/freeze'
import { shapeOf, type Shape } from '../values/shape'
import type { Key, Rec } from '../values/types'
import { isExpired, type TtlRule } from '../live/ttl'
import { inverse, type RecordChange } from './change'
import type { Row } from './row'

/**
 * A table's records and indexes. `apply` is the only code that writes either, so indexes can
 * never drift from the records: inserts, updates, deletes and rollbacks all come through it.
 */
export class TableStore {
  readonly name: string
  readonly #rows = new Map<Key, Row>()
  readonly #indexes = new Map<string, Index>()
  /** The indexes as arrays, for the write path's loops (no iterator per write). */
  #indexList: Index[] = []
  #uniqueList: Index[] = []
  #nextSeq = 1
  /** Insertion rank of deleted rows, so that undoing the delete puts the row back in place. */
  readonly #deletedSeq = new WeakMap<RecordChange, number>()
  /** Set when a rollback re-inserted a row out of insertion order; fixed by the next scan. */
  #orderDirty = false
  #lastShape: Shape | undefined = undefined
  /** The next auto-assigned key: past every integer key ever stored (derived from the changes). */
  nextAutoKey = 1
  /** The expiry rule of a table created with `ttl`: expired records are invisible to reads. */
  ttl: TtlRule | null = null

  constructor(name: string) {
    this.name = name
  }

  get size(): number {
    return this.#rows.size
  }

  row(key: Key): Row | undefined {
    return this.#rows.get(key)
  }

  /** Whether `rec` has expired (never, in a table without `ttl`). */
  expired(rec: Rec, now?: number): boolean {
    // The clock is read only for a table that has a rule (not on every `get` of the others).
    return this.ttl !== null && isExpired(this.ttl, rec, now ?? Date.now())
  }

  /** For one read: a test of whether a record is still alive, or null when none can expire. */
  liveTest(): ((rec: Rec) => boolean) | null {
    const rule = this.ttl
    if (rule === null) return null
    const now = Date.now()
    return (rec) => !isExpired(rule, rec, now)
  }

  /** A mutable deep copy of a row's record (compiled per record shape: fast on frozen records). */
  copyOf(row: Row): Record<string, unknown> {
    return (row.shape ?? this.#shapeOf(row)).deep(row.rec)
  }

  /** A mutable top-level copy of a row's record, nested values shared (an update's start). */
  shallowCopyOf(row: Row): Record<string, unknown> {
    return (row.shape ?? this.#shapeOf(row)).shallow(row.rec)
  }

  /**
   * Finds and keeps a row's shape on its first copy. Records of a table mostly share one shape:
   * the last one found is tried first, which allocates nothing (`shapeOf` builds a signature).
   */
  #shapeOf(row: Row): Shape {
    const last = this.#lastShape
    const shape = last !== undefined && last.matches(row.rec) ? last : shapeOf(row.rec, thaw)
    this.#lastShape = shape
    return (row.shape = shape)
  }

  /** Every row in insertion order. */
  rows(): IterableIterator<Row> {
    if (this.#orderDirty) this.#restoreOrder()
    return this.#rows.values()
  }

  index(field: string): Index | undefined {
    return this.#indexes.get(field)
  }

  indexes(): IterableIterator<Index> {
    return this.#indexes.values()
  }

  /** Builds an index over the current rows; a unique one refuses existing duplicates. */
  addIndex(spec: Required<IndexSpec>): void {
    const index = createIndex(spec.field, spec.type, spec.unique)
    const seen = spec.unique ? new Map<unknown, Key>() : null
    const now = Date.now()
    for (const row of this.rows()) {
      const value = row.rec[spec.field]
      // An expired record is as good as deleted (the sweep will): it holds no unique value.
      if (seen !== null && value != null && !this.expired(row.rec, now)) {
        const c = canonical(value)
        const other = seen.get(c)
        if (other !== undefined) {
          throw new DuplicateKeyError(
            `Cannot create unique index on \`${this.name}.${spec.field}\`: records ${String(other)} and ${String(row.key)} share the value ${String(value)}`,
            { table: this.name, field: spec.field, key: row.key },
          )
        }
        seen.set(c, row.key)
      }
      index.add(row, value)
    }
    this.#indexes.set(spec.field, index)
    this.#listIndexes()
  }

  #listIndexes(): void {
    this.#indexList = [...this.#indexes.values()]
    this.#uniqueList = this.#indexList.filter((index) => index.unique)
  }

  /** Empties the store (records and indexes) before a replica reloads it from a snapshot. */
  clear(): void {
    this.#rows.clear()
    this.#indexes.clear()
    this.#listIndexes()
    this.#orderDirty = false
    this.nextAutoKey = 1
  }

  removeIndex(field: string): void {
    this.#indexes.delete(field)
    this.#listIndexes()
  }

  /**
   * Checks unique indexes against the state *after* all `changes`: a value may move from one
   * record to another within the same change set. Nulls never conflict.
   */
  checkUnique(changes: readonly RecordChange[]): void {
    for (const index of this.#uniqueList) {
      if (changes.length === 1) this.#checkOne(index, changes[0] as RecordChange)
      else this.#checkMany(index, changes)
    }
  }

  /** `checkUnique` of a single change. */
  checkUniqueOne(change: RecordChange): void {
    for (const index of this.#uniqueList) this.#checkOne(index, change)
  }

  #checkOne(index: Index, change: RecordChange): void {
    const value = change.after?.[index.field]
    if (value == null || (change.before !== undefined && equals(change.before[index.field], value))) return
    const hits: Row[] = []
    index.eq(value, hits)
    for (const row of hits) if (row.key !== change.key && !this.expired(row.rec)) throw this.#duplicate(index, change.key, value)
  }

  #checkMany(index: Index, changes: readonly RecordChange[]): void {
    const changed = new Set<Key>()
    for (const c of changes) changed.add(c.key)
    const taken = new Map<unknown, Key>()
    for (const c of changes) {
      const value = c.after?.[index.field]
      if (value == null) continue
      const canon = canonical(value)
      const other = taken.get(canon)
      if (other !== undefined && other !== c.key) throw this.#duplicate(index, c.key, value)
      taken.set(canon, c.key)
      const hits: Row[] = []
      index.eq(value, hits)
      for (const row of hits) if (row.key !== c.key && !changed.has(row.key) && !this.expired(row.rec)) throw this.#duplicate(index, c.key, value)
    }
  }

  #duplicate(index: Index, key: Key, value: unknown): DuplicateKeyError {
    return new DuplicateKeyError(
      `Duplicate value ${String(value)} for unique index \`${this.name}.${index.field}\` (record ${String(key)})`,
      { table: this.name, field: index.field, key },
    )
  }

  /** Applies changes in order; if one throws (a bug), undoes the ones applied and rethrows. */
  applyAll(changes: readonly RecordChange[]): void {
    const autoKey = this.nextAutoKey
    let i = 0
    try {
      for (; i < changes.length; i++) this.apply(changes[i] as RecordChange)
    } catch (error) {
      for (let j = i - 1; j >= 0; j--) this.undo(changes[j] as RecordChange)
      this.nextAutoKey = autoKey
      throw error
    }
  }

  /** Applies one change to the records and every index. */
  apply(change: RecordChange): void {
    const { key, after } = change
    const row = this.#rows.get(key)
    if (after === undefined) {
      if (row === undefined) throw new Error(`dictdb internal: delete of missing key ${String(key)} in ${this.name}`)
      for (const index of this.#indexList) index.remove(row, row.rec[index.field])
      this.#rows.delete(key)
      this.#deletedSeq.set(change, row.seq)
    } else if (row === undefined) {
      this.#insert(key, after, undefined)
    } else {
      this.#update(row, after)
    }
  }

  /** The insertion rank a delete `change` removed (so observers can still place the old record). */
  deletedSeq(change: RecordChange): number | undefined {
    return this.#deletedSeq.get(change)
  }

  /** Applies the inverse of an applied change. */
  undo(change: RecordChange): void {
    const seq = this.#deletedSeq.get(change)
    if (seq === undefined || change.before === undefined) return this.apply(inverse(change))
    // Undoing a delete: the record goes back to its original place.
    this.#insert(change.key, change.before, seq)
  }

  #insert(key: Key, rec: Rec, seq: number | undefined): void {
    if (seq === undefined) seq = this.#nextSeq++
    else if (seq < this.#nextSeq - 1) this.#orderDirty = true
    const row: Row = { key, rec, seq, shape: undefined }
    this.#rows.set(key, row)
    for (const index of this.#indexList) index.add(row, rec[index.field])
    if (typeof key === 'number' && Number.isInteger(key) && key >= this.nextAutoKey) this.nextAutoKey = key + 1
  }

  #update(row: Row, after: Rec): void {
    const before = row.rec
    if (row.shape !== undefined && !row.shape.matches(after)) row.shape = undefined
    for (const index of this.#indexList) {
      const a = before[index.field]
      const b = after[index.field]
      if (a === b || equals(a, b)) continue
      index.remove(row, a)
      index.add(row, b)
    }
    row.rec = after
  }

  #restoreOrder(): void {
    const sorted = [...this.#rows.values()].sort((a, b) => a.seq - b.seq)
    this.#rows.clear()
    for (const row of sorted) this.#rows.set(row.key, row)
    this.#orderDirty = false
  }
}
