import { InvalidStateError } from '../errors'
import type { Index, IndexSpec } from '../indexes/types'
import { preview, shortName } from '../values/describe'
import { fieldOf } from '../values/own-field'
import type { Shape } from '../values/shape'
import type { Key, Rec } from '../values/types'
import { inverse, recordChange, type FieldPatch, type RecordChange } from './change'
import { deletedRank, keepRank } from './delete-rank'
import { buildIndex, listSets, reindex } from './indexing'
import { assignPatch, fieldMaker, onePatch, patchMaker, setsField, type FieldMaker, type PatchMaker } from './patcher'
import { StoredRecords } from './stored-records'
import { checkMany, checkOne } from './unique'

/**
 * A table's records and indexes. `apply` is the only code that writes either, so indexes can
 * never drift from the records: inserts, updates, deletes and rollbacks all come through it.
 *
 * The primary Map holds the frozen records themselves (a read is one lookup, no handle between
 * key and record, see {@link Records}); indexes hold keys. A record's key is its primary-key field.
 */
export class TableStore extends StoredRecords {
  readonly #indexes = new Map<string, Index>()
  /** The indexes as arrays, for the write path's loops (no iterator per write). */
  #indexList: Index[] = []
  #uniqueList: Index[] = []
  /** The next auto-assigned key: past every integer key ever stored (derived from the changes). */
  nextAutoKey = 1

  /** Whether a unique index (besides the primary key) constrains writes to this table. */
  get hasUnique(): boolean {
    return this.#uniqueList.length > 0
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
    if (!this.rows.replace(key, after)) throw this.#mismatch(recordChange(this.name, key, before, after))
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

  /**
   * {@link applyPatch} of a patch that sets one field, `field`, to `value`: while every record
   * holds one flat shape and `value` is not an object, the record is made by the shape's maker for
   * that field (the express update's: kept for the last field and shape) and stored as
   * {@link replaceField} stores it. No patch arrays, list of names or change object.
   */
  applyField(key: Key, before: Rec, field: string, value: unknown): void {
    const flat = this.copies.flatShape
    if (flat === null || (typeof value === 'object' && value !== null)) return this.applyPatch(key, before, onePatch(field, value))
    if (field !== this.#madeField || flat !== this.#madeShape) {
      this.#made = fieldMaker(flat, field)
      this.#madeField = field
      this.#madeShape = flat
    }
    const make = this.#made
    if (make === null) return this.applyPatch(key, before, onePatch(field, value))
    this.#replace(key, before, make(before, value), field)
  }

  /** The maker {@link applyField} used last, and the field and shape it is for. */
  #made: FieldMaker | null = null
  #madeField = ''
  #madeShape: Shape | null = null

  /** The record (frozen) that `patch` makes of the stored `before`, made as {@link applyPatch} makes it. */
  patched(before: Rec, patch: FieldPatch): Rec {
    const make = this.#patchMaker(patch)
    return make === null ? assignPatch(this.shallowCopyOf(before), patch) : make(before, patch.values)
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
    const flat = this.copies.flatShape
    return flat === null ? null : patchMaker(flat, patch)
  }

  index(field: string): Index | undefined {
    return this.#indexes.get(field)
  }

  indexes(): IterableIterator<Index> {
    return this.#indexes.values()
  }

  /** Builds an index over the current rows; a unique one refuses existing duplicates. */
  addIndex(spec: Required<IndexSpec>): void {
    this.#indexes.set(spec.field, buildIndex(this, this.rows.values(), spec))
    this.#listIndexes()
  }

  #listIndexes(): void {
    this.#indexList = [...this.#indexes.values()]
    this.#uniqueList = this.#indexList.filter((index) => index.unique)
  }

  /** Empties the store (records and indexes) before a replica reloads it from a snapshot. */
  clear(): void {
    this.rows.clear()
    this.#indexes.clear()
    this.#listIndexes()
    this.nextAutoKey = 1
    this.copies.emptied()
  }

  removeIndex(field: string): void {
    this.#indexes.delete(field)
    this.#listIndexes()
  }

  /**
   * Checks unique indexes against the state *after* all `changes`: a value may move from one
   * record to another within the same change set. Nulls never conflict (see ./unique.ts).
   * `sets`: when every change is an update that sets only fields named in this list (field,
   * value…: an `update`'s own), the unique indexes of the other fields are not checked. Sound:
   * every record of the set keeps its stored value of such a field and none is added, so the
   * set's values of it are values the index holds for those records alone (two live records
   * never hold the same non-null value; an expired holder counts for nothing either way), and
   * {@link checkMany} would find no clash. A validator that returns a record of its own, an
   * insert, a delete or an upsert's merge: no list (null), every index is checked.
   */
  checkUnique(changes: readonly RecordChange[], sets: readonly unknown[] | null = null): void {
    const list = this.#uniqueList
    if (list.length === 0) return
    if (changes.length === 1) return this.#checkOne(changes[0] as RecordChange)
    for (let i = 0; i < list.length; i++) {
      const index = list[i] as Index
      if (sets === null || listSets(sets, index.field)) checkMany(this, index, changes)
    }
  }

  /** `checkUnique` of a single change (small enough to be inlined where no unique index is). */
  checkUniqueOne(change: RecordChange): void {
    if (this.#uniqueList.length !== 0) this.#checkOne(change)
  }

  /**
   * Checks each unique index against one change, except those of fields an update's merge did
   * not set (what {@link Copies.setsOf} tells, as for moving indexes in `#replace`): such a field
   * keeps `before`'s own value, which the index already holds for this record alone. Not reading
   * the field spares two megamorphic keyed loads and a compare per unique index. Only for a
   * change alone: in a change set, a field left as it was can still clash with a value another
   * change of the set moves (see {@link checkMany}).
   */
  #checkOne(change: RecordChange): void {
    const list = this.#uniqueList
    const { before, after } = change
    const sets = before === undefined || after === undefined ? null : this.copies.setsOf(after, before)
    for (let i = 0; i < list.length; i++) {
      const index = list[i] as Index
      if (sets === null || (typeof sets === 'string' ? sets === index.field : listSets(sets, index.field))) checkOne(this, index, change)
    }
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
      const rank = before === undefined ? undefined : this.rows.remove(key)
      if (rank === undefined) throw this.#mismatch(change)
      for (const index of this.#indexList) index.remove(key, fieldOf(before as Rec, index.field))
      // Most keys are their own rank (rising integer keys: see Records) and need nothing kept.
      if (rank !== key) keepRank(change, rank)
      if (this.rows.size === 0) this.copies.emptied()
    } else if (before === undefined) {
      if (this.rows.has(key)) throw this.#mismatch(change)
      this.rows.add(key, after)
      this.#added(key, after)
    } else {
      this.#replace(key, before, after, this.copies.setsOf(after, before))
      this.copies.admit(after, before, false)
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
    if (!this.rows.restore(change.key, change.before, rank)) throw this.#mismatch(inverse(change))
    this.#added(change.key, change.before)
  }

  #added(key: Key, rec: Rec): void {
    this.copies.admit(rec, undefined, this.rows.size === 1)
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
    if (!this.rows.replace(key, after)) throw this.#mismatch(recordChange(this.name, key, before, after))
    const list = this.#indexList
    for (let i = 0; i < list.length; i++) {
      const index = list[i] as Index
      if (only === null || (typeof only === 'string' ? only === index.field : listSets(only, index.field))) {
        reindex(index, key, fieldOf(before, index.field), fieldOf(after, index.field))
      }
    }
  }
}
