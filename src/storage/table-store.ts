import { InvalidStateError } from '../errors'
import type { Index, IndexSpec } from '../indexes/types'
import { preview, shortName } from '../values/describe'
import { fieldOf } from '../values/own-field'
import type { Key, Rec } from '../values/types'
import { isExpired, type TtlRule } from '../live/ttl'
import { inverse, recordChange, type FieldPatch, type RecordChange } from './change'
import { Copies } from './copies'
import { deletedRank, keepRank } from './delete-rank'
import { buildIndex, listSets, reindex } from './indexing'
import { assignPatch, patchMaker, setsField, type PatchMaker } from './patcher'
import { Records } from './records'
import type { Shape } from '../values/shape'
import { checkMany, checkOne } from './unique'

/**
 * A table's records and indexes. `apply` is the only code that writes either, so indexes can
 * never drift from the records: inserts, updates, deletes and rollbacks all come through it.
 *
 * The primary Map holds the frozen records themselves (a read is one lookup, no handle between
 * key and record, see {@link Records}); indexes hold keys. A record's key is its primary-key field.
 */
export class TableStore {
  readonly name: string
  readonly primaryKey: string
  readonly #records = new Records()
  readonly #indexes = new Map<string, Index>()
  /** The indexes as arrays, for the write path's loops (no iterator per write). */
  #indexList: Index[] = []
  #uniqueList: Index[] = []
  readonly #copies = new Copies()
  /** The next auto-assigned key: past every integer key ever stored (derived from the changes). */
  nextAutoKey = 1
  /** The expiry rule of a table created with `ttl`: expired records are invisible to reads. */
  ttl: TtlRule | null = null

  constructor(name: string, primaryKey: string) {
    this.name = name
    this.primaryKey = primaryKey
  }

  get size(): number {
    return this.#records.size
  }

  /** Whether a unique index (besides the primary key) constrains writes to this table. */
  get hasUnique(): boolean {
    return this.#uniqueList.length > 0
  }

  /** The record with this key (expired or not), or undefined. */
  get(key: Key): Rec | undefined {
    return this.#records.get(key)
  }

  /** A stored record's key. */
  keyOf(rec: Rec): Key {
    return rec[this.primaryKey] as Key
  }

  /** The insertion rank of the record stored under `key`, or undefined if there is none. */
  rankOf(key: Key): number | undefined {
    return this.#records.rankOf(key)
  }

  /** The insertion rank of a stored record. */
  rank(rec: Rec): number {
    return this.#records.rankOf(rec[this.primaryKey] as Key) as number
  }

  /** Sorts stored keys into insertion order (in place). */
  sortByRank(keys: Key[]): void {
    this.#records.sort(keys)
  }

  /** Whether stored keys are in insertion order. */
  inRankOrder(keys: readonly Key[]): boolean {
    return this.#records.ordered(keys)
  }

  /** The stored records matching `test`, at most `limit`, in insertion order (a full scan). */
  filter(test: (rec: Rec) => boolean, limit: number): Rec[] {
    return this.#records.filter(test, limit)
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

  /** A mutable deep copy of a stored record. */
  copyOf(rec: Rec): Record<string, unknown> {
    return this.#copies.deep(rec)
  }

  /** Replaces each stored record of `rows` by its {@link copyOf}, in place; returns `rows`. */
  copyEach(rows: Rec[]): Rec[] {
    return this.#copies.each(rows)
  }

  /** A mutable top-level copy of a stored record, nested values shared (an update's start). */
  shallowCopyOf(rec: Rec): Record<string, unknown> {
    return this.#copies.shallow(rec)
  }

  /**
   * Notes that `rec` is the stored `from` copied by {@link shallowCopyOf} with only fields of
   * `from` changed, each to a value that is not an object: applying it needs no walk of its fields.
   * `sets`, if given, names them (field, value, field, value…, as the merge set them): applying an
   * update that set one field then looks only at that field's index.
   */
  vouch(rec: Rec, from: Rec, sets: readonly unknown[] | null = null): void {
    this.#copies.vouch(rec, from, sets)
  }

  /**
   * The fields, in order, that both `rec` and `from` have exactly, if `rec` is the update last
   * {@link vouch}ed for, made from `from`, and every stored record has one flat shape; else
   * undefined (a shared database's log then encodes the update without this help).
   */
  vouchedFields(rec: Rec, from: Rec): readonly string[] | undefined {
    return this.#copies.vouchedFields(rec, from)
  }

  /**
   * Applies a shared log's patch (another thread's update, nobody listening) to `before`, stored
   * under `key`. Every record of one flat shape and the patch setting some of its fields to values
   * that are not objects: one compiled literal makes the record, only the patched fields' indexes
   * are looked at, and no change object is made. Else: a copy, the fields set, {@link apply}.
   */
  applyPatch(key: Key, before: Rec, patch: FieldPatch): void {
    const make = this.#patchMaker(patch)
    if (make === null) return this.apply(recordChange(this.name, key, before, assignPatch(this.shallowCopyOf(before), patch)))
    // `before` holds the flat shape (every stored record does), and `after` is it with fields of
    // the shape set to values that are not objects: it holds the shape too (no `Copies.admit`).
    const after = make(before, patch.values)
    if (!this.#records.replace(key, after)) throw this.#mismatch(recordChange(this.name, key, before, after))
    const moved = this.#movedBy(make, patch)
    for (let i = 0; i < moved.length; i++) {
      const index = moved[i] as Index
      reindex(index, key, fieldOf(before, index.field), fieldOf(after, index.field))
    }
  }

  /**
   * The indexes of the fields that patches made by `make` set (the maker stands for its list of
   * names), kept for the last maker: a run of patches mostly sets one list of fields, and the
   * indexes were otherwise each looked for among the patch's names, entry after entry.
   */
  #movedBy(make: PatchMaker, patch: FieldPatch): readonly Index[] {
    if (make === this.#movedMaker && this.#movedFrom === this.#indexList) return this.#moved
    const list = this.#indexList
    this.#moved = list.filter((index) => setsField(patch, index.field))
    this.#movedMaker = make
    this.#movedFrom = list
    return this.#moved
  }

  #moved: readonly Index[] = []
  #movedMaker: PatchMaker | null = null
  /** The index list {@link #moved} was picked from (a new list is made whenever an index comes or goes). */
  #movedFrom: Index[] | null = null

  /** The one field the update {@link vouch}ed for as `rec`, made from `from`, set; null if it set several or another record was vouched for. */
  vouchedOne(rec: Rec, from: Rec): string | null {
    return this.#copies.setOneOf(rec, from)
  }

  /** The record (frozen) that `patch` makes of the stored `before`, made as {@link applyPatch} makes it. */
  patched(before: Rec, patch: FieldPatch): Rec {
    const make = this.#patchMaker(patch)
    return make === null ? assignPatch(this.shallowCopyOf(before), patch) : make(before, patch.values)
  }

  /**
   * The compiled shape every stored record holds (fields in one order, no object among the
   * values), or null (records of several shapes, or none).
   */
  get flatShape(): Shape | null {
    return this.#copies.flatShape
  }

  /**
   * Stores `after` in place of the stored `before` under `key`, where `after` is `before` with
   * field `field` alone set to a value that is not an object, while every record holds the flat
   * shape (`fieldMaker`'s record): it holds the shape too, and only `field`'s index moves.
   */
  replaceField(key: Key, before: Rec, after: Rec, field: string): void {
    this.#replace(key, before, after, field)
  }

  #patchMaker(patch: FieldPatch): PatchMaker | null {
    const flat = this.#copies.flatShape
    return flat === null ? null : patchMaker(flat, patch)
  }

  /** Every record in insertion order. */
  records(): IterableIterator<Rec> {
    return this.#records.values()
  }

  /** Every record in insertion order, as a new array (`[...records()]`, quicker), or in `into` (see `Records.list`). */
  recordList(into?: Rec[]): Rec[] {
    return this.#records.list(into)
  }

  index(field: string): Index | undefined {
    return this.#indexes.get(field)
  }

  indexes(): IterableIterator<Index> {
    return this.#indexes.values()
  }

  /** Builds an index over the current rows; a unique one refuses existing duplicates. */
  addIndex(spec: Required<IndexSpec>): void {
    this.#indexes.set(spec.field, buildIndex(this, this.#records.values(), spec))
    this.#listIndexes()
  }

  #listIndexes(): void {
    this.#indexList = [...this.#indexes.values()]
    this.#uniqueList = this.#indexList.filter((index) => index.unique)
  }

  /** Empties the store (records and indexes) before a replica reloads it from a snapshot. */
  clear(): void {
    this.#records.clear()
    this.#indexes.clear()
    this.#listIndexes()
    this.nextAutoKey = 1
    this.#copies.emptied()
  }

  removeIndex(field: string): void {
    this.#indexes.delete(field)
    this.#listIndexes()
  }

  /**
   * Checks unique indexes against the state *after* all `changes`: a value may move from one
   * record to another within the same change set. Nulls never conflict (see ./unique.ts).
   */
  checkUnique(changes: readonly RecordChange[]): void {
    for (const index of this.#uniqueList) {
      if (changes.length === 1) checkOne(this, index, changes[0] as RecordChange)
      else checkMany(this, index, changes)
    }
  }

  /** `checkUnique` of a single change (small enough to be inlined where no unique index is). */
  checkUniqueOne(change: RecordChange): void {
    const list = this.#uniqueList
    for (let i = 0; i < list.length; i++) checkOne(this, list[i] as Index, change)
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

  /**
   * Applies one change to the records and every index. The change was planned against the
   * stored state, so its `before` is the stored record: no second lookup to find it. Whether the
   * key was there is still checked (the Map's size tells it for an update), and a mismatch (a
   * bug) throws with nothing changed: `applyAll` or the transaction undoes what was applied.
   */
  apply(change: RecordChange): void {
    const { key, before, after } = change
    if (after === undefined) {
      const rank = before === undefined ? undefined : this.#records.remove(key)
      if (rank === undefined) throw this.#mismatch(change)
      for (const index of this.#indexList) index.remove(key, fieldOf(before as Rec, index.field))
      // Most keys are their own rank (rising integer keys: see Records) and need nothing kept.
      if (rank !== key) keepRank(change, rank)
      if (this.#records.size === 0) this.#copies.emptied()
    } else if (before === undefined) {
      if (this.#records.has(key)) throw this.#mismatch(change)
      this.#records.add(key, after)
      this.#added(key, after)
    } else {
      this.#replace(key, before, after, this.#copies.setsOf(after, before))
      this.#copies.admit(after, before, false)
    }
  }

  #mismatch(change: RecordChange): Error {
    return new InvalidStateError(`dictdb internal: ${change.before === undefined ? 'insert of a stored' : 'change of a missing'} key ${preview(change.key)} in ${shortName(this.name)}`)
  }

  /** The insertion rank an applied delete `change` removed (so observers can still place the old record). */
  deletedSeq(change: RecordChange): number | undefined {
    return deletedRank(change)
  }

  /** Applies the inverse of an applied change. */
  undo(change: RecordChange): void {
    const rank = this.deletedSeq(change)
    if (rank === undefined || change.before === undefined) return this.apply(inverse(change))
    // Undoing a delete: the record goes back to its original place.
    if (!this.#records.restore(change.key, change.before, rank)) throw this.#mismatch(inverse(change))
    this.#added(change.key, change.before)
  }

  #added(key: Key, rec: Rec): void {
    this.#copies.admit(rec, undefined, this.#records.size === 1)
    for (const index of this.#indexList) index.add(key, fieldOf(rec, index.field))
    if (typeof key === 'number' && Number.isInteger(key) && key >= this.nextAutoKey) this.nextAutoKey = key + 1
  }

  /**
   * Stores `after` in place of `before` under `key` and moves it in the indexes: in every one, or
   * only in those of the fields `patch` sets, or of field `only`, or of the fields a merge's list
   * `only` sets (the others hold `before`'s values still). Not only quicker: the index's field read from a record, a name that differs per index,
   * is a megamorphic keyed load (~5 ns each, four per update with two indexes), which an update of
   * an unindexed field then does not make.
   */
  #replace(key: Key, before: Rec, after: Rec, only: string | readonly unknown[] | null = null): void {
    if (!this.#records.replace(key, after)) throw this.#mismatch(recordChange(this.name, key, before, after))
    const list = this.#indexList
    for (let i = 0; i < list.length; i++) {
      const index = list[i] as Index
      if (only === null || (typeof only === 'string' ? only === index.field : listSets(only, index.field))) {
        reindex(index, key, fieldOf(before, index.field), fieldOf(after, index.field))
      }
    }
  }
}
