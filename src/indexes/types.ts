import type { Key } from '../values/types'

/** Index kinds: `hash` (equality) and `sorted` (equality and ranges, a B+ tree). */
export type IndexType = 'hash' | 'sorted'

/** The definition of an index, as saved and as given to `createIndex`. */
export interface IndexSpec {
  field: string
  type?: IndexType
  unique?: boolean
}

/** A range over one kind of value; bounds absent mean "to the end of that kind". */
export interface Range {
  lo?: unknown
  loInclusive?: boolean
  hi?: unknown
  hiInclusive?: boolean
  /** A value of the kind being ranged over (bounds the scan to that kind). */
  kind: unknown
}

/** What every index offers the store and the planner. Maintained only by `TableStore.apply`. */
export interface Index {
  readonly field: string
  readonly type: IndexType
  readonly unique: boolean
  add(key: Key, value: unknown): void
  remove(key: Key, value: unknown): void
  /** Keys whose value equals `value` (canonical equality; null = null or missing). */
  eq(value: unknown, out: Key[]): void
  /** How many keys `eq(value)` would give, at most `cap`. */
  countEq(value: unknown, cap: number): number
  /** Keys in `range` (sorted indexes only), at most `cap` counted when `out` is null. */
  range?(range: Range, out: Key[] | null, cap: number): number
  /** Every (value, key) pair, for checks against a rebuild. */
  entries(): Array<[unknown, Key]>
}
