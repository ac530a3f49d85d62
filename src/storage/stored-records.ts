import { isExpired, type TtlRule } from '../live/ttl'
import type { Shape } from '../values/shape'
import type { Key, Rec } from '../values/types'
import { Copies } from './copies'
import { Records } from './records'

/**
 * The reading side of a table's store ({@link TableStore} adds the writes and the indexes): the
 * records by key and in insertion order, their expiry, and the copies handed out of them.
 */
export class StoredRecords {
  readonly name: string
  readonly primaryKey: string
  /** The frozen records by key, in insertion order; written by `TableStore.apply` alone. */
  protected readonly rows = new Records()
  protected readonly copies = new Copies()
  /** The expiry rule of a table created with `ttl`: expired records are invisible to reads. */
  ttl: TtlRule | null = null

  constructor(name: string, primaryKey: string) {
    this.name = name
    this.primaryKey = primaryKey
  }

  get size(): number {
    return this.rows.size
  }

  /** The record with this key (expired or not), or undefined. */
  get(key: Key): Rec | undefined {
    return this.rows.get(key)
  }

  /** A stored record's key. */
  keyOf(rec: Rec): Key {
    return rec[this.primaryKey] as Key
  }

  /** The insertion rank of the record stored under `key`, or undefined if there is none. */
  rankOf(key: Key): number | undefined {
    return this.rows.rankOf(key)
  }

  /** The insertion rank of a stored record. */
  rank(rec: Rec): number {
    return this.rows.rankOf(rec[this.primaryKey] as Key) as number
  }

  /** Sorts stored keys into insertion order (in place). */
  sortByRank(keys: Key[]): void {
    this.rows.sort(keys)
  }

  /** Whether stored keys are in insertion order. */
  inRankOrder(keys: readonly Key[]): boolean {
    return this.rows.ordered(keys)
  }

  /** The stored records matching `test`, at most `limit`, in insertion order (a full scan). */
  filter(test: (rec: Rec) => boolean, limit: number): Rec[] {
    return this.rows.filter(test, limit)
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
    return this.copies.deep(rec)
  }

  /** Replaces each stored record of `rows` by its {@link copyOf}, in place; returns `rows`. */
  copyEach(rows: Rec[]): Rec[] {
    return this.copies.each(rows)
  }

  /** A mutable top-level copy of a stored record, nested values shared (an update's start). */
  shallowCopyOf(rec: Rec): Record<string, unknown> {
    return this.copies.shallow(rec)
  }

  /**
   * Notes that `rec` is the stored `from` copied by {@link shallowCopyOf} with only fields of
   * `from` changed, each to a value that is not an object: applying it needs no walk of its fields.
   * `sets`, if given, names them (field, value, field, value…, as the merge set them): applying an
   * update that set one field then looks only at that field's index.
   */
  vouch(rec: Rec, from: Rec, sets: readonly unknown[] | null = null): void {
    this.copies.vouch(rec, from, sets)
  }

  /**
   * The fields, in order, that both `rec` and `from` have exactly, if `rec` is the update last
   * {@link vouch}ed for, made from `from`, and every stored record has one flat shape; else
   * undefined (a shared database's log then encodes the update without this help).
   */
  vouchedFields(rec: Rec, from: Rec): readonly string[] | undefined {
    return this.copies.vouchedFields(rec, from)
  }

  /** The one field the update {@link vouch}ed for as `rec`, made from `from`, set; null if it set several or another record was vouched for. */
  vouchedOne(rec: Rec, from: Rec): string | null {
    return this.copies.setOneOf(rec, from)
  }

  /**
   * The compiled shape every stored record holds (fields in one order, no object among the
   * values), or null (records of several shapes, or none).
   */
  get flatShape(): Shape | null {
    return this.copies.flatShape
  }

  /** Every record in insertion order. */
  records(): IterableIterator<Rec> {
    return this.rows.values()
  }

  /** Every record in insertion order, as a new array (`[...records()]`, quicker), or in `into` (see `Records.list`). */
  recordList(into?: Rec[]): Rec[] {
    return this.rows.list(into)
  }
}
