import { thaw } from '../values/freeze'
import { shapeOf, type Shape } from '../values/shape'
import type { Rec } from '../values/types'

/**
 * How a table copies its stored records out (`get`, `select`) and starts an update's merge.
 *
 * While every stored record has one shape and only flat values (no object, array or Date), a
 * copy is the shape's `copy` (a `shallow` copier of its own): no test per record, nor a read of each value. The
 * store tells each record it stores ({@link admit}), so this stays true or is dropped. Otherwise
 * each record's shape is found (the last one first) and copied deeply.
 */
export class Copies {
  /** The shape of the last record copied the general way: records of a table mostly share one. */
  #last: Shape | undefined = undefined
  /**
   * The shape every stored record {@link Shape.holds}; null once a record of another kind was
   * stored (until the table is empty again); undefined while the table is empty.
   */
  #flat: Shape | null | undefined = undefined

  /** The record last {@link vouch}ed for, and the one it was made from. */
  #vouched: Rec | null = null
  #vouchedFrom: Rec | null = null
  /**
   * The one field the merge that made it set, when it set one (null: several, or not told). A
   * name, not the merge's list: storing a new object here on every update would cost a write
   * barrier's slow path, a field name (an old string) does not.
   */
  #vouchedField: string | null = null
  /**
   * The merge's list (field, value, field, value…) when it set several fields (null: one, or not
   * told). Kept only then: an update of several fields is rarer, and its indexes are looked at
   * for those fields alone.
   */
  #vouchedSets: readonly unknown[] | null = null

  /**
   * The compiled shape that every stored record holds (fields in one order, no object among the
   * values), or null when there is none (records of several shapes, or the table is empty).
   */
  get flatShape(): Shape | null {
    return this.#flat ?? null
  }

  /** A mutable deep copy of a stored record. */
  deep(rec: Rec): Record<string, unknown> {
    const flat = this.#flat
    return flat ? flat.copy(rec) : this.#shapeOf(rec).deep(rec)
  }

  /** Replaces each stored record of `rows` by its {@link deep} copy, in place; returns `rows`. */
  each(rows: Rec[]): Rec[] {
    const flat = this.#flat
    if (flat) for (let i = 0; i < rows.length; i++) rows[i] = flat.copy(rows[i] as Rec)
    else for (let i = 0; i < rows.length; i++) rows[i] = this.#shapeOf(rows[i] as Rec).deep(rows[i] as Rec)
    return rows
  }

  /** A mutable top-level copy of a stored record, nested values shared. */
  shallow(rec: Rec): Record<string, unknown> {
    return (this.#flat ?? this.#shapeOf(rec)).shallow(rec)
  }

  /**
   * Notes a record being stored: `from` is the record it replaces (an update), `alone` whether
   * it is now the table's only record.
   */
  admit(rec: Rec, from: Rec | undefined, alone: boolean): void {
    const flat = this.#flat
    if (flat === null) return
    if (rec === this.#vouched) {
      const same = from === this.#vouchedFrom
      this.#vouched = this.#vouchedFrom = null
      this.#vouchedField = null
      this.#vouchedSets = null
      // `from`, stored, holds the shape, and `rec` is its copy with some values, none an object, replaced.
      if (same && flat !== undefined) return
    }
    if (flat === undefined) {
      // Undefined only while the table was empty: `rec` is then its only record.
      const shape = shapeOf(rec, thaw)
      this.#flat = alone && shape.holds(rec, undefined) ? shape : null
    } else if (!flat.holds(rec, from)) {
      this.#flat = null
    }
  }

  /**
   * Notes that `rec` is a {@link shallow} copy of the stored `from` where only fields `from` has
   * were given values that are not objects: while every record holds the flat shape, `rec` does
   * too, and its {@link admit} (the update that stores it, right after) skips the walk of its
   * fields. Only the last one is kept; one that is never stored is forgotten at the next.
   */
  vouch(rec: Rec, from: Rec, sets: readonly unknown[] | null = null): void {
    this.#vouched = rec
    this.#vouchedFrom = from
    this.#vouchedField = sets !== null && sets.length === 2 ? (sets[0] as string) : null
    this.#vouchedSets = sets !== null && sets.length > 2 ? sets : null
  }

  /**
   * The one field the merge that made `rec` from `from` set (every other field of `rec` is
   * `from`'s own value), if `rec` is the record last {@link vouch}ed for, made from `from`, and
   * the vouch named one field; else null. Whatever the shape: a vouched record is a shallow copy
   * of `from` with the fields its merge set.
   */
  setOneOf(rec: Rec, from: Rec): string | null {
    return rec === this.#vouched && from === this.#vouchedFrom ? this.#vouchedField : null
  }

  /**
   * What the merge that made `rec` from `from` set, if `rec` is the record last {@link vouch}ed
   * for, made from `from`, and the vouch said: its one field's name, or its list (field, value…)
   * when it set several; else null. Every field of `rec` it does not name is `from`'s own value.
   */
  setsOf(rec: Rec, from: Rec): string | readonly unknown[] | null {
    if (rec !== this.#vouched || from !== this.#vouchedFrom) return null
    return this.#vouchedField ?? this.#vouchedSets
  }

  /**
   * The fields of `rec` (in order) if it is the record last {@link vouch}ed for, made from `from`,
   * while every stored record holds the flat shape: `from`, stored when vouched for, held it, and
   * the shape has not changed since (only emptying the table changes it, and that forgets the
   * vouch), so `from` and `rec` both have exactly its fields. Else undefined.
   */
  vouchedFields(rec: Rec, from: Rec): readonly string[] | undefined {
    const flat = this.#flat
    return flat && rec === this.#vouched && from === this.#vouchedFrom ? flat.fields : undefined
  }

  /** The table is empty: the next record stored sets the shape. */
  emptied(): void {
    this.#flat = undefined
    this.#vouched = this.#vouchedFrom = null
    this.#vouchedField = null
    this.#vouchedSets = null
  }

  /** The last shape found is tried first, which allocates nothing (`shapeOf` builds a signature). */
  #shapeOf(rec: Rec): Shape {
    const last = this.#last
    if (last !== undefined && last.matches(rec)) return last
    return (this.#last = shapeOf(rec, thaw))
  }
}
